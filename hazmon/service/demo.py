"""`hazmon demo`: the whole service on one machine, fed by simulated plants.

Starts its own Mosquitto and InfluxDB on free loopback ports under the work directory,
generates a registry of simulated enterprises, runs hazmon and the simulator together,
and schedules scenarios so that alarms arrive within the first minute. The simulated
plants also do their duties through the API (`hazmon.simulators.duties`): commitments
filed (one late, one missing), a hazard source declared stopped, and the demo's roll
call of every plant each few minutes answered, answered late or missed.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import signal
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from hazmon.duties.config import DutiesConfig
from hazmon.service.app import Service
from hazmon.service.settings import Settings
from hazmon.simulators.cli import run_simulation
from hazmon.simulators.duties import DutyDrill, demo_plans
from hazmon.simulators.publisher import Publisher
from hazmon.simulators.registry_gen import DEFAULT_REGIONS, GeneratedRegistry, generate_registry
from hazmon.testing.influxdb import InfluxDB
from hazmon.testing.mosquitto import Mosquitto

log = logging.getLogger(__name__)

# The example grid (deploy/): it names the generated plants' counties and their officials.
REGIONS_EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "regions.example.yaml"
SIM_STOP_S = 10.0  # a gateway ends after its current tick (2 s at the demo's rate)
ROLL_CALL_EVERY_S = 180.0  # the demo's regulator calls every plant's roll this often
# The demo's duties file: the commitment deadline a few minutes after the demo starts (it
# runs at any hour; a fixed 10:00 would mark every plant late after ten), a one-minute answer
# deadline, so on-time, late and missing commitments and answers show within minutes.
COMMITMENT_DEADLINE_AFTER = timedelta(minutes=3)
DEMO_DUTIES = """\
commitment: {{deadline: "{deadline}"}}
roll_call: {{answer_deadline_s: 60, daily_calls: 0}}
patrol: {{sample_size: 2}}
"""


def demo_duties(started: datetime) -> str:
    """The duties file for a demo started at `started` (the province's local time). Near
    midnight the deadline stays at 23:59 of the same day: the day's list must keep it."""
    deadline = started + COMMITMENT_DEADLINE_AFTER
    at = "23:59" if deadline.date() != started.date() else deadline.strftime("%H:%M")
    return DEMO_DUTIES.format(deadline=at)


def demo_scenarios(codes: list[str]) -> list[str]:
    """Scenarios on the generated plants. The first enterprise always has MHS-01 (tank farm),
    MHS-02 (production unit), MHS-03 (warehouse) and MHS-04 (tank farm)."""
    first = codes[0]
    out = [
        # Gas detectors alarm without delay: the first alarms come within the minute.
        f"gas_leak@{first}/MHS-01@10@900@tau_s=20@delay_s=15",
        f"tank_overfill@{first}/MHS-04@5@1200@ramp_s=240",
        f"exothermic_runaway@{first}/MHS-02@60@1200",
    ]
    if len(codes) > 1:
        out.append(f"sensor_stuck@{codes[1]}/MHS-01@30@3600")
        out.append(f"chattering_sensor@{codes[1]}/MHS-01@20@600")
    if len(codes) > 2:
        out.append(f"gateway_outage@{codes[2]}/MHS-01@45@120")
    if len(codes) > 3:
        out.append(f"malformed_payloads@{codes[3]}/MHS-01@15@600")
    return out


def prepare(workdir: Path, enterprises: int, seed: int) -> GeneratedRegistry:
    """A fresh work directory with a generated registry: each demo starts from scratch."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    gen = generate_registry(enterprises, seed, DEFAULT_REGIONS)
    (workdir / "registry.yaml").write_text(gen.yaml_text, encoding="utf-8")
    if REGIONS_EXAMPLE.is_file():  # names and officials of the demo's counties
        shutil.copyfile(REGIONS_EXAMPLE, workdir / "regions.yaml")
    (workdir / "duties.yaml").write_text(demo_duties(datetime.now(DutiesConfig().zone)),
                                         encoding="utf-8")
    return gen


async def run_demo(workdir: Path, *, enterprises: int = 12, seed: int = 1,
                   http_host: str = "127.0.0.1", http_port: int = 8080,
                   stop: asyncio.Event | None = None,
                   started: Callable[[Service], None] | None = None) -> None:
    """Run until `stop` is set (by default: until SIGINT or SIGTERM)."""
    gen = await asyncio.to_thread(prepare, workdir, enterprises, seed)
    registry_file = workdir / "registry.yaml"
    codes = [e["code"] for e in gen.data["enterprises"]]

    with Mosquitto(workdir / "mosquitto") as broker, InfluxDB(workdir / "influxdb") as influx:
        settings = Settings(
            registry=registry_file,
            data_dir=workdir / "data",
            mqtt={"host": broker.host, "port": broker.port, "client_id": "hazmon-demo"},
            influx={"url": influx.url, "database": "hazmon"},
            http={"host": http_host, "port": http_port},
            duties={"config": workdir / "duties.yaml", "check_s": 5.0, "seed": seed},
            warnings={"regions_file": regions} if (regions := workdir / "regions.yaml").is_file()
            else {},
        )
        if stop is None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
        async with Service.open(settings) as service:
            token, _ = await service.tokens.create("province", "32", "demo duty officer",
                                                   service.clock())
            sim_token, _ = await service.tokens.create("simulator", "32", "demo plants",
                                                       service.clock())
            drill = DutyDrill(f"http://127.0.0.1:{service.http_port}", sim_token, gen.data,
                              demo_plans(codes))
            scenarios = demo_scenarios(codes)
            print(f"\nhazmon demo: {len(codes)} simulated enterprises, "
                  f"{len(service.registry.sensors)} sensors", flush=True)
            print(f"  monitoring page:  http://{http_host}:{service.http_port}/", flush=True)
            print(f"  sign in with:     {token}   (province centre, regions 32…)", flush=True)
            # the plant acknowledges and shelves its alarms (http.rights): its own token
            plant, _ = await service.tokens.create("enterprise", codes[0], "demo plant operator",
                                                   service.clock())
            print(f"  or as the plant:  {plant}   ({codes[0]}: acknowledge, shelve)",
                  flush=True)
            print(f"  health:           http://{http_host}:{service.http_port}/health",
                  flush=True)
            print(f"  MQTT broker:      {broker.host}:{broker.port}   InfluxDB: {influx.url}",
                  flush=True)
            print("  scenarios:        " + "\n                    ".join(scenarios), flush=True)
            deadline = service.duties.config.commitment.deadline.strftime("%H:%M")
            print(f"  duties:           commitments due by {deadline} (the demo's deadline; "
                  "one late, one\n"
                  "                    missing); a roll call of every plant every "
                  f"{ROLL_CALL_EVERY_S / 60:.0f} min; the day list at /api/v1/commitments/day",
                  flush=True)
            print("  stop with Ctrl-C\n", flush=True)
            publishers: list[Publisher] = []
            async with asyncio.TaskGroup() as tg:
                sim = tg.create_task(run_simulation(
                    registry=gen.data, host=broker.host, port=broker.port, rate=0.5,
                    duration_s=None, speed=1.0, scenarios=scenarios, validate=False,
                    on_publisher=publishers.append,
                ), name="simulator")
                duty_tasks = [tg.create_task(drill.run(), name="duty-drill"),
                              tg.create_task(_roll_calls(service, codes), name="roll-calls")]
                if started is not None:
                    started(service)
                await stop.wait()
                log.info("demo stopping")
                for task in duty_tasks:
                    task.cancel()
                await _stop_simulation(sim, publishers)


async def _roll_calls(service: Service, codes: list[str]) -> None:
    """The demo's regulator: a roll call of every plant soon after the start, then
    every ROLL_CALL_EVERY_S."""
    await asyncio.sleep(20.0)
    while True:
        await service.duties.call_roll(codes, "province:demo duty officer")
        await asyncio.sleep(ROLL_CALL_EVERY_S)


async def _stop_simulation(sim: asyncio.Task[object], publishers: list[Publisher]) -> None:
    """Let each simulated gateway say offline and disconnect (within one tick); cancelling
    it instead would leave its connection to fail when the broker stops."""
    for publisher in publishers:
        publisher.stop()
    done, _ = await asyncio.wait({sim}, timeout=SIM_STOP_S)
    if not done:
        log.warning("simulator did not stop within %.0f s; cancelled", SIM_STOP_S)
        sim.cancel()
        await asyncio.wait({sim})
