"""Several instances as one service: partitions of the province (by region prefix),
leases on them in the shared PostgreSQL database, and the state the holder of a
partition shares there (rule snapshots, gateway presence, sensors' last readings).
The service (`hazmon.service.cluster`) runs the partitions this instance holds."""
