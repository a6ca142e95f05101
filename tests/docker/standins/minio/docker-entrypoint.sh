#!/bin/sh
# As the official minio image's: the command is minio's arguments (`server /data`).
set -e
if [ "$1" != minio ] && [ -n "$1" ]; then
  set -- minio "$@"
fi
exec "$@"
