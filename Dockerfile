# syntax=docker/dockerfile:1.7
#
# oauth2-server container image: a Rust builder stage, then a small Debian runtime stage that runs
# the one binary as an unprivileged user.
#
#   docker build -t oauth2-server .
#   docker run --rm -p 8080:8080 -v oauth2-data:/data \
#     -e OAUTH2_ISSUER=http://localhost:8080 oauth2-server
#
# Needs BuildKit (the default builder since Docker 23) for the cache mounts and COPY --chmod.
# Dependency caching: cargo-chef turns the manifests and Cargo.lock into a recipe, and the
# dependencies are compiled in their own layer from that recipe alone, so a change to the
# project's source rebuilds only the workspace crates. The cargo registry is a cache mount, so
# crates are downloaded once per builder, not once per build.
# deploy/check.sh checks this file statically (hadolint, BuildKit's parser, and the rules below).

# --- chef: the pinned Rust toolchain and cargo-chef --------------------------------------------
# Same Debian release as the runtime stage, so the binary links against the same glibc.
FROM rust:1.95.0-bookworm AS chef
ARG CARGO_CHEF_VERSION=0.1.78
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    cargo install --locked cargo-chef --version "${CARGO_CHEF_VERSION}"
WORKDIR /src

# --- planner: the dependency recipe (changes only when a manifest or Cargo.lock changes) -------
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

# --- builder: dependencies first (a cached layer), then the workspace ------------------------
FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    cargo chef cook --release --locked -p oauth2-server --recipe-path recipe.json
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    cargo build --release --locked -p oauth2-server --bin oauth2-server \
 && install -D -m 0755 target/release/oauth2-server /out/oauth2-server

# --- runtime: Debian slim, no compiler, no shell tools beyond the base image -------------------
FROM debian:bookworm-slim AS runtime
# ca-certificates: for outbound TLS (PostgreSQL with sslmode, rediss://). Unpinned on purpose: a
# pinned Debian version disappears from the mirrors with its next security update.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 oauth2 \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin oauth2 \
 && install -d -o 10001 -g 10001 -m 0750 /data
COPY --from=builder /out/oauth2-server /usr/local/bin/oauth2-server
# The health check is a bash script (bash is in every Debian image): no curl or wget to install,
# patch and carry. The server has no health subcommand of its own.
COPY --chmod=0755 deploy/docker/healthcheck /usr/local/bin/oauth2-healthcheck

# Listen on every interface inside the container; SQLite in the /data volume unless
# OAUTH2_DATABASE_URL names PostgreSQL. Set OAUTH2_ISSUER to the public https:// URL in production.
ENV OAUTH2_SERVER_HOST=0.0.0.0 \
    OAUTH2_SERVER_PORT=8080 \
    OAUTH2_DATABASE_URL=sqlite:/data/oauth2.db
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080

# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001

HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/oauth2-healthcheck", "/health"]

# `serve` migrates the database on start; `migrate`, `config check`, `client create`, ... are the
# other subcommands (docker run IMAGE migrate).
ENTRYPOINT ["/usr/local/bin/oauth2-server"]
CMD ["serve"]
