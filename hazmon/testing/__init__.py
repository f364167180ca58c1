"""Start real servers (Mosquitto, InfluxDB, PostgreSQL) on loopback for tests, benchmarks
and the local demo. Each runs as a child process in its own directory and is removed
afterwards."""
