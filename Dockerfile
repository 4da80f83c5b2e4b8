# Unstuck in a container. Build:  docker build -t unstuck .
# Run (SQLite on a volume; the token comes from your environment, never from the image):
#   docker run -d --name unstuck -e DISCORD_TOKEN -v unstuck-data:/data unstuck
# Other commands work the same way:  docker run --rm -e DISCORD_TOKEN unstuck invite
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Install the package (no dev extras) from only the files it is built from.
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY cogs ./cogs
COPY storage ./storage
COPY migrations ./migrations
COPY emulator ./emulator
RUN pip install . && cd / && rm -rf /src

# A user of its own, and a folder for the SQLite database that a volume keeps across upgrades.
RUN useradd --system --create-home --home-dir /app --uid 10001 unstuck \
    && mkdir /data && chown unstuck:unstuck /data
ENV UNSTUCK_DATABASE__URL=sqlite+aiosqlite:////data/unstuck.db
VOLUME ["/data"]

# Unstuck reads ./config.toml when there is one: -v "$PWD/config.toml:/app/config.toml:ro"
WORKDIR /app
USER unstuck

# `docker stop` sends SIGTERM: the bot lets running handlers finish and closes the database.
STOPSIGNAL SIGTERM
ENTRYPOINT ["unstuck"]
CMD ["run"]
