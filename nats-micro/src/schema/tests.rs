//! Byte shapes of what the runtime writes, and samples of what other implementations write.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use super::*;

fn time(secs: u64, nanos: u32) -> SystemTime {
    UNIX_EPOCH + Duration::new(secs, nanos)
}

#[test]
fn ping_is_written_in_go_order_with_empty_metadata() {
    let ping = PingResponse {
        name: "calc".into(),
        id: "ID".into(),
        version: "1.0.0".into(),
        metadata: Metadata::new(),
        kind: PING_RESPONSE_TYPE.into(),
    };
    assert_eq!(
        serde_json::to_string(&ping).expect("serializes"),
        r#"{"name":"calc","id":"ID","version":"1.0.0","metadata":{},"type":"io.nats.micro.v1.ping_response"}"#
    );
}

#[test]
fn info_writes_description_and_null_endpoint_metadata() {
    let info = InfoResponse {
        name: "calc".into(),
        id: "ID".into(),
        version: "1.0.0".into(),
        metadata: [("z".to_owned(), "1".to_owned()), ("a".into(), "2".into())].into(),
        kind: INFO_RESPONSE_TYPE.into(),
        description: String::new(),
        endpoints: vec![
            EndpointInfo {
                name: "add".into(),
                subject: "calc.add".into(),
                queue_group: "q".into(),
                metadata: None,
            },
            EndpointInfo {
                name: "all".into(),
                subject: "calc.>".into(),
                queue_group: String::new(),
                metadata: Some([("k".to_owned(), "v".to_owned())].into()),
            },
        ],
    };
    assert_eq!(
        serde_json::to_string(&info).expect("serializes"),
        concat!(
            r#"{"name":"calc","id":"ID","version":"1.0.0","metadata":{"a":"2","z":"1"},"#,
            r#""type":"io.nats.micro.v1.info_response","description":"","endpoints":["#,
            r#"{"name":"add","subject":"calc.add","queue_group":"q","metadata":null},"#,
            r#"{"name":"all","subject":"calc.>","queue_group":"","metadata":{"k":"v"}}]}"#
        )
    );
}

#[test]
fn stats_writes_nanoseconds_rfc3339_and_omits_missing_data() {
    let stats = StatsResponse {
        name: "calc".into(),
        id: "ID".into(),
        version: "1.0.0".into(),
        metadata: Metadata::new(),
        kind: STATS_RESPONSE_TYPE.into(),
        started: time(1_795_421_743, 123_456_789),
        endpoints: vec![
            EndpointStats {
                name: "add".into(),
                subject: "calc.add".into(),
                queue_group: "q".into(),
                num_requests: 3,
                num_errors: 1,
                last_error: "500:handler error".into(),
                processing_time: Duration::from_nanos(1_500),
                average_processing_time: Duration::from_nanos(500),
                data: None,
            },
            EndpointStats {
                name: "sub".into(),
                subject: "calc.sub".into(),
                queue_group: "q".into(),
                num_requests: 0,
                num_errors: 0,
                last_error: String::new(),
                processing_time: Duration::ZERO,
                average_processing_time: Duration::ZERO,
                data: Some(json!({"hits": 1})),
            },
        ],
    };
    assert_eq!(
        serde_json::to_string(&stats).expect("serializes"),
        concat!(
            r#"{"name":"calc","id":"ID","version":"1.0.0","metadata":{},"#,
            r#""type":"io.nats.micro.v1.stats_response","started":"2026-11-23T08:15:43.123456789Z","#,
            r#""endpoints":[{"name":"add","subject":"calc.add","queue_group":"q","num_requests":3,"#,
            r#""num_errors":1,"last_error":"500:handler error","processing_time":1500,"#,
            r#""average_processing_time":500},{"name":"sub","subject":"calc.sub","queue_group":"q","#,
            r#""num_requests":0,"num_errors":0,"last_error":"","processing_time":0,"#,
            r#""average_processing_time":0,"data":{"hits":1}}]}"#
        )
    );
}

#[test]
fn started_is_written_as_go_writes_rfc3339_nano() {
    let cases = [
        ((0, 0), "1970-01-01T00:00:00Z"),
        ((0, 1_000), "1970-01-01T00:00:00.000001Z"),
        ((0, 500_000_000), "1970-01-01T00:00:00.5Z"),
        ((0, 120_000_000), "1970-01-01T00:00:00.12Z"),
        (
            (1_795_421_743, 123_456_789),
            "2026-11-23T08:15:43.123456789Z",
        ),
        (
            (1_795_421_743, 123_456_780),
            "2026-11-23T08:15:43.12345678Z",
        ),
    ];
    for ((secs, nanos), expected) in cases {
        assert_eq!(lenient::format(time(secs, nanos)), expected);
        assert_eq!(lenient::parse(expected), Some(time(secs, nanos)));
    }
}

#[test]
fn round_trips() {
    let stats = StatsResponse {
        name: "n".into(),
        id: "i".into(),
        version: "0.1.0".into(),
        metadata: [("a".to_owned(), "b".to_owned())].into(),
        kind: STATS_RESPONSE_TYPE.into(),
        started: time(1_700_000_000, 42),
        endpoints: vec![],
    };
    let text = serde_json::to_string(&stats).expect("serializes");
    assert_eq!(
        serde_json::from_str::<StatsResponse>(&text).expect("parses"),
        stats
    );
}

/// As nats-py 2.16 writes them: `null` description and endpoint metadata, milliseconds in
/// `started`, `type` first, metadata last.
#[test]
fn parses_nats_py_replies() {
    let info: InfoResponse = serde_json::from_str(
        r#"{"type": "io.nats.micro.v1.info_response", "name": "py-echo", "id": "abc",
            "version": "1.2.3", "description": null, "metadata": {"lang": "python"},
            "endpoints": [{"name": "echo", "subject": "py.echo", "queue_group": "q",
                           "metadata": null}]}"#,
    )
    .expect("parses");
    assert_eq!(info.description, "");
    assert_eq!(info.endpoints[0].metadata, None);
    assert_eq!(info.metadata["lang"], "python");

    let stats: StatsResponse = serde_json::from_str(
        r#"{"type": "io.nats.micro.v1.stats_response", "name": "py-echo", "id": "abc",
            "version": "1.2.3", "started": "2024-05-01T10:00:00.123Z",
            "endpoints": [{"name": "echo", "subject": "py.echo", "queue_group": "q",
                "num_requests": 2, "num_errors": 0, "last_error": "",
                "processing_time": 12345, "average_processing_time": 6172, "data": null}],
            "metadata": {}}"#,
    )
    .expect("parses");
    assert_eq!(stats.started, time(1_714_557_600, 123_000_000));
    assert_eq!(
        stats.endpoints[0].processing_time,
        Duration::from_nanos(12_345)
    );
    assert_eq!(stats.endpoints[0].data, None);
}

/// As nats.js writes them: metadata and `last_error` omitted, float durations.
#[test]
fn parses_nats_js_replies() {
    let ping: PingResponse = serde_json::from_str(
        r#"{"type":"io.nats.micro.v1.ping_response","name":"js","id":"X","version":"1.0.0"}"#,
    )
    .expect("parses");
    assert!(ping.metadata.is_empty());

    let stats: StatsResponse = serde_json::from_str(
        r#"{"name":"js","id":"X","version":"1.0.0","type":"io.nats.micro.v1.stats_response",
            "started":"2024-05-01T10:00:00.000Z",
            "endpoints":[{"name":"e","subject":"e","queue_group":"q","num_requests":3,
            "num_errors":0,"processing_time":1500000.4,"average_processing_time":500000}]}"#,
    )
    .expect("parses");
    let endpoint = &stats.endpoints[0];
    assert_eq!(endpoint.last_error, "");
    assert_eq!(endpoint.processing_time, Duration::from_nanos(1_500_000));

    let info: InfoResponse = serde_json::from_str(
        r#"{"name":"js","id":"X","version":"1.0.0","description":"",
            "endpoints":[{"name":"e","subject":"e","queue_group":"q"}]}"#,
    )
    .expect("parses");
    assert_eq!(info.endpoints[0].metadata, None);
    assert_eq!(info.kind, "");
}

/// As async-nats writes them: `{}` endpoint metadata, metadata missing from STATS, offsets.
#[test]
fn parses_async_nats_replies() {
    let stats: StatsResponse = serde_json::from_str(
        r#"{"type":"io.nats.micro.v1.stats_response","name":"rs","id":"Y","version":"2.0.0",
            "started":"2024-05-01T12:00:00.5+02:00",
            "endpoints":[{"name":"e","subject":"e","queue_group":"q","num_requests":1,
            "num_errors":1,"last_error":"500:boom","processing_time":10,
            "average_processing_time":10,"data":{"x":[1,2]}}]}"#,
    )
    .expect("parses");
    assert_eq!(stats.started, time(1_714_557_600, 500_000_000));
    assert_eq!(stats.endpoints[0].last_error, "500:boom");
    assert_eq!(stats.endpoints[0].data, Some(json!({"x": [1, 2]})));

    let info: InfoResponse = serde_json::from_str(
        r#"{"name":"rs","id":"Y","version":"2.0.0","metadata":{"n":3},
            "endpoints":[{"name":"e","subject":"e","queue_group":"q","metadata":{}}]}"#,
    )
    .expect("parses");
    assert_eq!(info.endpoints[0].metadata, Some(Metadata::new()));
    assert_eq!(info.metadata["n"], "3");
}

#[test]
fn tolerates_nulls_everywhere_but_the_identity() {
    let stats: StatsResponse = serde_json::from_str(
        r#"{"name":"n","id":"i","version":null,"metadata":null,"type":null,
            "started":"2024-05-01T10:00:00Z","endpoints":[{"name":"e","subject":null,
            "queue_group":null,"num_requests":null,"num_errors":-1,"last_error":null,
            "processing_time":null,"average_processing_time":"7"}]}"#,
    )
    .expect("parses");
    let endpoint = &stats.endpoints[0];
    assert_eq!((endpoint.num_requests, endpoint.num_errors), (0, 0));
    assert_eq!(endpoint.average_processing_time, Duration::from_nanos(7));
    assert!(serde_json::from_str::<PingResponse>(r#"{"name":"n"}"#).is_err());
    assert!(serde_json::from_str::<StatsResponse>(
        r#"{"name":"n","id":"i","started":"yesterday"}"#
    )
    .is_err());
}
