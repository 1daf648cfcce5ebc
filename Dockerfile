# A clean, pinned environment for the runtime: the same Debian packages and Node as a dev machine.
#   docker build -t glasses .            (or: docker buildx build --platform linux/arm64 -t glasses .)
#   docker run --rm glasses              runs the main job on its embedded default
#   docker run --rm glasses npm test
FROM node:20.20.2-bookworm-slim

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      espeak-ng sox alsa-utils ffmpeg pocketsphinx pocketsphinx-en-us \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/glasses
COPY package.json package-lock.json .npmrc ./
COPY tsconfig.json tsconfig.build.json ./
COPY firmware-ts ./firmware-ts
COPY models ./models
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund
COPY . .

CMD ["npm", "start"]
