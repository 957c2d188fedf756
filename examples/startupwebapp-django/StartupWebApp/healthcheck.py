"""The image's HEALTHCHECK: GET http://127.0.0.1:$PORT/health, exit 0 on HTTP 200.
Plain urllib, so the check needs nothing the production image does not already have."""
import os
import sys
import urllib.request


def main():
    url = "http://127.0.0.1:%s/health" % os.environ.get("PORT", "8000")
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return 0 if response.status == 200 else 1
    except Exception as error:  # any failure is "unhealthy"
        print("healthcheck: %s: %s" % (url, error), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
