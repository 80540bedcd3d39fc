# loyalchat: one image for web, worker and scheduler (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm AS base

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    LOYALCHAT_VAR_DIR=/var/lib/loyalchat

RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY frontend/package.json frontend/package-lock.json frontend/
RUN cd frontend && npm ci --omit=dev --no-audit --no-fund

COPY . .
# Optional extras: --build-arg EXTRAS="[paddle]" adds the paddleocr engine (PaddleOCR 3.x).
ARG EXTRAS=""
RUN pip install ".${EXTRAS}" && useradd --system --home /var/lib/loyalchat loyalchat \
 && mkdir -p /var/lib/loyalchat && chown loyalchat /var/lib/loyalchat

USER loyalchat
EXPOSE 8000
CMD ["loyalchat", "serve", "--host", "0.0.0.0", "--port", "8000"]
