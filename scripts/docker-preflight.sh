#!/usr/bin/env bash
# Before make image: what docker buildx needs, each missing piece named with
# its fix (without this, a docker without buildx says only "unknown flag:
# --platform").
set -euo pipefail
fail() { echo "make image: $*" >&2; exit 2; }
command -v docker >/dev/null ||
  fail "docker is not installed: install Docker Engine with the buildx plugin (or deploy with -c taskImage=<image URI>, which needs no image build)"
docker buildx version >/dev/null 2>&1 ||
  fail "docker has no buildx: install the buildx plugin (Debian/Ubuntu: apt-get install docker-buildx, or docker-buildx-plugin from Docker's repository)"
if ! out=$(docker info --format '{{.ServerVersion}}' 2>&1); then
  fail "no Docker daemon answers ($(tail -n 1 <<<"$out")): start it (sudo systemctl start docker) or point DOCKER_HOST at one"
fi
if [[ $(uname -m) != aarch64 && $(uname -m) != arm64 ]] && ! docker buildx ls 2>/dev/null | grep -q 'linux/arm64'; then
  fail "the builder cannot build linux/arm64 on this $(uname -m) machine: docker run --privileged --rm tonistiigi/binfmt --install arm64"
fi
