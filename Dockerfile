# syntax=docker/dockerfile:1
#
# Gyre prediction server image: a static, pure-Go binary on distroless,
# running as a non-root user. Two ways to give it a model:
#
#   Baked in (the bundle file must be inside the build context):
#     docker build --build-arg MODEL=models/adult.gyre -t gyre-adult .
#     docker run -p 8080:8080 gyre-adult
#
#   Pulled from the registry at start (pass the reference as the argument):
#     docker build -t gyre .
#     docker run -p 8080:8080 -e GYRE_STORE=postgres://... \
#       -e GYRE_ARTIFACTS='s3://models?endpoint=...' gyre adult-income@production
#
# See docs/deploy.md.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=readonly
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN go build -trimpath -ldflags "-s -w -X github.com/gyre-ml/gyre/internal/cli.Version=${VERSION}" \
      -o /out/gyre ./cmd/gyre \
 && /out/gyre --help >/dev/null
# MODEL: a bundle file in the build context to bake in as /models/model.gyre.
ARG MODEL=
RUN mkdir -p /out/models \
 && if [ -n "$MODEL" ]; then \
      cp "$MODEL" /out/models/model.gyre; \
    fi

# distroless/static carries CA certificates (for s3:// and postgres:// over
# TLS), tzdata and /etc/passwd with the nonroot user (65532); no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gyre /usr/local/bin/gyre
COPY --from=build --chown=65532:65532 /out/models /models
USER 65532:65532
# Registry stores default to $GYRE_HOME; point it somewhere writable (the
# Kubernetes manifests mount an emptyDir at /tmp and keep / read-only).
ENV GYRE_HOME=/tmp/gyre
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/gyre", "serve", "--addr", "0.0.0.0:8080"]
# MODEL_REF: a bundle path or a registry reference (NAME@ALIAS); override it
# with the container's arguments.
CMD ["/models/model.gyre"]
