"""A real S3-compatible server for the storage tests: moto's server mode (an HTTP S3 in a
thread of the test process, on a free port), and a client and settings for a fresh bucket."""

import socket
import uuid

import boto3
from botocore.config import Config

ACCESS_KEY, SECRET_KEY, REGION = "testing-key", "testing-secret", "us-east-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class S3Server:
    def __init__(self):
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    def __enter__(self) -> "S3Server":
        self._server.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.stop()

    def client(self):
        return boto3.session.Session().client(
            "s3", endpoint_url=self.url, region_name=REGION, aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(s3={"addressing_style": "path"},
                          request_checksum_calculation="when_required",
                          response_checksum_validation="when_required"))

    def new_bucket(self) -> str:
        bucket = f"giaibao-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=bucket)
        return bucket

    def settings(self, bucket: str, *, prefix: str = "") -> dict:
        """The settings (attribute: value) that point the app at ``bucket``."""
        return dict(storage="s3", s3_bucket=bucket, s3_endpoint_url=self.url,
                    s3_region=REGION, s3_access_key_id=ACCESS_KEY,
                    s3_secret_access_key=SECRET_KEY, s3_prefix=prefix,
                    s3_addressing_style="path", s3_part_mib=5,
                    s3_connect_timeout_seconds=2, s3_read_timeout_seconds=10)

    def env(self, bucket: str) -> dict[str, str]:
        """The same settings as GIAIBAO_… environment variables (for a server process)."""
        return {f"GIAIBAO_{k.upper()}": str(v) for k, v in self.settings(bucket).items()}
