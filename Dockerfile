# ECG workbench: CPU image. Build: docker build -t ecg-workbench .
# For CPU-only PyTorch wheels, pass PyTorch's CPU wheel index (see its install page):
#   docker build --build-arg PIP_EXTRA_INDEX_URL=<cpu wheel index> -t ecg-workbench .
FROM python:3.11-slim

ARG PIP_EXTRA_INDEX_URL=""
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    ECG_DATA_DIR=/data

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin ecg
WORKDIR /app
COPY requirements.txt .
# PIP_EXTRA_INDEX_URL (a build argument) reaches pip here and is not kept in the image
RUN pip install --no-cache-dir -r requirements.txt
COPY --chown=10001:10001 . .

USER 10001
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read() != b'ok')"]
CMD ["streamlit", "run", "app.py", "--server.address", "0.0.0.0", "--server.port", "8501"]
