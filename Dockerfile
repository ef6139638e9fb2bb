# Confide API image: `confide serve` applies migrations, then serves on port 8000.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    CONFIDE_HOST=0.0.0.0 CONFIDE_PORT=8000 CONFIDE_DATA_DIR=/data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY platform ./platform
COPY avatars ./avatars
COPY guidelines ./guidelines
RUN pip install . && useradd --system --home /data confide && mkdir -p /data && chown confide /data

USER confide
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status != 200)"
CMD ["confide", "serve"]
