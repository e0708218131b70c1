"""Throughput of the HubSpot sandbox: 1,000 batch updates of 100 contacts via the official client.

Run: ``.venv/bin/python bench/bench_sandbox_hubspot.py [--deserialize]``. The rate limit is raised
for the run so the figure measures the emulator, not the 100-per-10-s policy.

By default the client is called with ``_preload_content=False``: the request still goes through
the official client's urllib3 transport, but the client does not build 100 response models per
call. That model building (``dateutil`` parsing two timestamps per record) costs the *client*
~50 ms per response here — more than the emulator's ~6 ms — so ``--deserialize`` reports the
end-to-end figure a product benchmark would see, and the default reports what the emulator serves.
"""

from __future__ import annotations

import sys
import time

from hubspot import HubSpot  # noqa: TID251 - the benchmark drives the sandbox with the official client

from crm_sync.sandbox.hubspot import HubSpotSandbox

BATCHES, BATCH_SIZE = 1_000, 100


def main(argv: list[str] | None = None) -> float:
    """Run the benchmark; print and return the elapsed seconds."""
    deserialize = "--deserialize" in (sys.argv[1:] if argv is None else argv)
    sandbox = HubSpotSandbox(rate_limit_per_10s=10**9, daily_limit=10**9)
    ids = [
        sandbox.state.create("contacts", {"email": f"b{i}@ex.com"}).id
        for i in range(BATCH_SIZE * 10)
    ]
    server = sandbox.serve()
    try:
        batch_api = HubSpot(access_token="sandbox", host=server.url).crm.contacts.batch_api
        start = time.perf_counter()
        for n in range(BATCHES):
            chunk = ids[(n % 10) * BATCH_SIZE : (n % 10 + 1) * BATCH_SIZE]
            inputs = [
                {"id": i, "properties": {"firstname": f"F{n}", "hs_persona": "persona_1"}}
                for i in chunk
            ]
            body = {"inputs": inputs}
            if deserialize:
                batch_api.update(batch_input_simple_public_object_batch_input=body)
            else:
                response = batch_api.update(
                    batch_input_simple_public_object_batch_input=body, _preload_content=False
                )
                assert response.status == 200, response.status
                response.read()
        elapsed = time.perf_counter() - start
    finally:
        server.stop()
    mode = "with client-side model building" if deserialize else "raw responses"
    print(
        f"{BATCHES} batch updates x {BATCH_SIZE} records ({mode}): "
        f"{elapsed:.2f} s, {BATCHES / elapsed:.0f} requests/s"
    )
    return elapsed


if __name__ == "__main__":
    main()
