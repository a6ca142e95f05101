-- The payments simulator's own database.
CREATE DATABASE payments;
