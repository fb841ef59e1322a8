"""`python -m sandbox`: the Billbee and wemalo simulators on loopback until Ctrl-C / SIGTERM."""

from __future__ import annotations

import argparse
import signal
import threading

from sandbox.runner import Sandbox


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--billbee-port", type=int, default=8301)
    parser.add_argument("--wemalo-port", type=int, default=8302)
    parser.add_argument("--demo", action="store_true", help="load the demo catalogue and orders")
    parser.add_argument("--seed", type=int, default=7, help="seed of the demo data")
    parser.add_argument("--profile", default="literal", choices=("literal", "lenient"),
                        help="readings of the vendor documents (default literal: their examples, literally)")
    parser.add_argument("--no-throttle", action="store_true", help="switch Billbee's rate limits off")
    args = parser.parse_args()
    if not args.host.startswith("127.") and args.host not in {"localhost", "::1"}:
        parser.error("the sandbox binds to loopback only")

    sandbox = Sandbox(host=args.host, billbee_port=args.billbee_port, wemalo_port=args.wemalo_port,
                      profile=args.profile)
    sandbox.start()
    if args.no_throttle:
        sandbox.control.billbee_settings(throttle=False)
    if args.demo:
        sandbox.control.load_demo(seed=args.seed)
    print(f"Billbee sandbox: {sandbox.billbee_url}/api/v1  (admin: {sandbox.billbee_url}/_admin)", flush=True)
    print(f"wemalo sandbox:  {sandbox.wemalo_url}/v1  (admin: {sandbox.wemalo_url}/_admin)", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()
