"""confluent-kafka-python's AdminClient against a kcli broker: topics, partitions and configs.

Usage: admin_client.py BOOTSTRAP. Prints one JSON object (see test/e2e/admin-python.test.ts).
Errors are reported as [KafkaError name, message] so the test can assert on Kafka's codes.
"""
import json
import sys

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

TIMEOUT = 15


def outcome(future):
    """None on success, else [error name, message]."""
    try:
        future.result(timeout=TIMEOUT)
        return None
    except KafkaException as e:
        err = e.args[0]
        if isinstance(err, KafkaError):
            return [err.name(), err.str()]
        return ["EXCEPTION", str(e)]


def outcomes(futures):
    return {str(key): outcome(f) for key, f in futures.items()}


def configs(admin, restype, name, keys):
    """{key: {value, source, readOnly, default}} for the keys asked, or [error name, message]."""
    future = admin.describe_configs([ConfigResource(restype, name)])
    try:
        entries = list(future.values())[0].result(timeout=TIMEOUT)
    except KafkaException as e:
        return [e.args[0].name(), e.args[0].str()]
    return {
        k: {"value": e.value, "source": int(e.source), "readOnly": e.is_read_only, "default": e.is_default}
        for k, e in entries.items()
        if k in keys
    }


def topics(admin, names):
    meta = admin.list_topics(timeout=TIMEOUT)
    out = {}
    for name in names:
        t = meta.topics.get(name)
        if t is None:
            out[name] = None
        else:
            out[name] = {
                "error": t.error.name() if t.error is not None else None,
                "partitions": sorted([p.id, p.leader, list(p.replicas), list(p.isrs)] for p in t.partitions.values()),
            }
    return out


def main():
    admin = AdminClient({"bootstrap.servers": sys.argv[1], "socket.timeout.ms": 10000})
    result = {}
    keys = ["retention.ms", "segment.bytes", "cleanup.policy"]

    result["create"] = outcomes(admin.create_topics([
        NewTopic("py-a", 3, 1, config={"retention.ms": "3600000"}),
        NewTopic("py-b", 1, 1),
    ], operation_timeout=10))
    result["createAgain"] = outcomes(admin.create_topics([NewTopic("py-a", 1, 1)]))
    result["createBadConfig"] = outcomes(admin.create_topics([NewTopic("py-bad", 1, 1, config={"no.such.option": "1"})]))
    result["validateOnly"] = outcomes(admin.create_topics([NewTopic("py-validated", 2, 1)], validate_only=True))
    result["topicsAfterCreate"] = topics(admin, ["py-a", "py-b", "py-validated"])

    result["grow"] = outcomes(admin.create_partitions([NewPartitions("py-b", 3)]))
    result["shrink"] = outcomes(admin.create_partitions([NewPartitions("py-a", 2)]))
    result["growUnknown"] = outcomes(admin.create_partitions([NewPartitions("py-nowhere", 2)]))
    result["topicsAfterGrow"] = topics(admin, ["py-b"])

    result["configsBefore"] = configs(admin, ConfigResource.Type.TOPIC, "py-a", keys)
    result["alterTopic"] = outcomes(admin.alter_configs([ConfigResource(ConfigResource.Type.TOPIC, "py-a", set_config={"segment.bytes": "2097152", "cleanup.policy": "compact"})]))
    result["configsAfter"] = configs(admin, ConfigResource.Type.TOPIC, "py-a", keys)
    result["alterBadValue"] = outcomes(admin.alter_configs([ConfigResource(ConfigResource.Type.TOPIC, "py-a", set_config={"retention.ms": "soon"})]))
    result["alterUnknownTopic"] = outcomes(admin.alter_configs([ConfigResource(ConfigResource.Type.TOPIC, "py-nowhere", set_config={"retention.ms": "1"})]))

    result["alterBroker"] = outcomes(admin.alter_configs([ConfigResource(ConfigResource.Type.BROKER, "1", set_config={"log.retention.ms": "7200000"})]))
    result["brokerConfigs"] = configs(admin, ConfigResource.Type.BROKER, "1", ["log.retention.ms", "num.partitions"])
    result["alterReadOnly"] = outcomes(admin.alter_configs([ConfigResource(ConfigResource.Type.BROKER, "1", set_config={"num.partitions": "3"})]))
    result["topicFollowsBroker"] = configs(admin, ConfigResource.Type.TOPIC, "py-b", ["retention.ms"])
    result["resetBroker"] = outcomes(admin.alter_configs([ConfigResource(ConfigResource.Type.BROKER, "1", set_config={})]))

    # IncrementalAlterConfigs arrived in confluent-kafka-python 2.2 (librdkafka 2.2); Debian's may be older.
    if hasattr(admin, "incremental_alter_configs"):
        from confluent_kafka.admin import AlterConfigOpType, ConfigEntry
        resource = ConfigResource(ConfigResource.Type.TOPIC, "py-a", incremental_configs=[
            ConfigEntry("cleanup.policy", "delete", incremental_operation=AlterConfigOpType.APPEND),
            ConfigEntry("segment.bytes", None, incremental_operation=AlterConfigOpType.DELETE),
        ])
        result["incremental"] = outcomes(admin.incremental_alter_configs([resource]))
        result["configsAfterIncremental"] = configs(admin, ConfigResource.Type.TOPIC, "py-a", keys)
    else:
        result["incremental"] = "unsupported"

    result["delete"] = outcomes(admin.delete_topics(["py-a", "py-b", "py-nowhere"], operation_timeout=10))
    result["topicsAfterDelete"] = topics(admin, ["py-a", "py-b"])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
