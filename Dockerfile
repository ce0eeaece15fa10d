# syntax=docker/dockerfile:1
# edge-drop-task image: the static Go binary on scratch, non-root.
# Build: make image (docker buildx build --platform linux/arm64 ...).
# The builder runs natively on the build host and cross-compiles for
# $TARGETARCH with exactly the flags of `make task`.
FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build
ARG TARGETOS=linux
ARG TARGETARCH
ARG VERSION=dev
WORKDIR /src/task
# GOWORK=off: the module alone, with its own go.mod's versions (as make task).
ENV GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOWORK=off
# The task module imports the contract module through a ../contract replace.
COPY contract/ /src/contract/
# Its tests' S3 server (s3fake, ../s3fake) is only a requirement here: the
# go command reads its go.mod, the binary imports none of it.
COPY s3fake/go.mod /src/s3fake/
COPY task/go.mod task/go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY task/ ./
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/edge-drop-task .

FROM scratch
# CA roots are compiled into the binary (x509roots/fallback); no files needed.
COPY --from=build /out/edge-drop-task /edge-drop-task
# Non-root; the host's data dir (bind-mounted at /data) must be writable by 65532.
USER 65532:65532
ENV EDGE_DROP_DATA_DIR=/data
ENTRYPOINT ["/edge-drop-task"]
