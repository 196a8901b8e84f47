"""One generation the way the IMA skill's script does it: a blocking process, requests, sleep.

Used by ``bench/inflight.py`` as the baseline ("one process per generation"). Standalone on
purpose: it imports nothing from this project, as the script it stands for.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import requests

BASE = os.environ["IMA_BASE_URL"]
HEADERS = {
    "Authorization": f"Bearer {os.environ['IMA_API_KEY']}",
    "Content-Type": "application/json",
    "x-app-source": "ima_skills",
    "x_app_language": "en",
}


def norm(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value).strip().upper()


def main(prompt: str) -> None:
    listing = requests.get(
        f"{BASE}/open/v1/product/list",
        params={"app": "ima", "platform": "web", "category": "text_to_video"},
        headers=HEADERS,
        timeout=30,
    ).json()["data"]
    leaf = next(c for g in listing for c in g["children"] if c["model_id"] == "wan2.6-t2v")
    params = {f["field"]: f["value"] for f in leaf["form_config"]}
    rule = next(
        (
            r
            for r in leaf["credit_rules"]
            if all(norm(params.get(k)) == norm(v) for k, v in r["attributes"].items())
        ),
        leaf["credit_rules"][0],
    )
    params.update(rule["attributes"])
    cast = {"points": rule["points"], "attribute_id": rule["attribute_id"]}
    inner = {**params, "prompt": prompt, "n": 1, "input_images": [], "cast": cast}
    body: dict[str, Any] = {
        "task_type": "text_to_video",
        "enable_multi_model": False,
        "src_img_url": [],
        "parameters": [
            {
                "attribute_id": rule["attribute_id"],
                "model_id": leaf["model_id"],
                "model_name": leaf["name"],
                "model_version": leaf["id"],
                "app": "ima",
                "platform": "web",
                "category": "text_to_video",
                "credit": rule["points"],
                "parameters": inner,
            }
        ],
    }
    created = requests.post(f"{BASE}/open/v1/tasks/create", json=body, headers=HEADERS, timeout=30)
    task_id = created.json()["data"]["id"]
    while True:
        time.sleep(8)
        detail = requests.post(
            f"{BASE}/open/v1/tasks/detail", json={"task_id": task_id}, headers=HEADERS, timeout=30
        ).json()["data"]
        medias = detail.get("medias") or []
        if medias and all((m.get("resource_status") or 0) == 1 for m in medias):
            print(medias[0]["url"])
            return


if __name__ == "__main__":
    main(sys.argv[1])
