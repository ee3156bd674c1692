use bytes::BytesMut;
use proptest::prelude::*;

use super::*;
use crate::header::StatusCode;

/// Parses everything in `chunks`, fed one chunk at a time, until the buffer runs dry.
fn parse_chunks(chunks: &[&[u8]]) -> Result<Vec<ServerOp>, ParseError> {
    let mut parser = Parser::default();
    let mut buf = BytesMut::new();
    let mut ops = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        while let Some(op) = parser.parse(&mut buf)? {
            ops.push(op);
        }
    }
    Ok(ops)
}

fn parse_all(bytes: &[u8]) -> Vec<ServerOp> {
    parse_chunks(&[bytes]).expect("valid protocol")
}

fn msg(op: &ServerOp) -> (u64, &Message) {
    match op {
        ServerOp::Msg { sid, message } => (*sid, message),
        other => panic!("expected a message, got {other:?}"),
    }
}

const MULTI_FRAME: &[u8] = b"INFO {\"server_id\":\"S1\",\"version\":\"2.15.1\",\"max_payload\":1048576,\"headers\":true,\"connect_urls\":[\"10.0.0.2:4222\"]}\r\n\
+OK\r\n\
PING\r\n\
MSG foo.bar 9 5\r\nhello\r\n\
MSG foo.bar 10 _INBOX.x.1 0\r\n\r\n\
HMSG a.b 3 reply.to 24 29\r\nNATS/1.0\r\nA: 1\r\nA: 2\r\n\r\nworld\r\n\
HMSG _INBOX.x.2 4 16 16\r\nNATS/1.0 503\r\n\r\n\r\n\
PONG\r\n\
-ERR 'Unknown Protocol Operation'\r\n";

fn check_multi_frame(ops: &[ServerOp]) {
    assert_eq!(ops.len(), 9, "{ops:#?}");
    let ServerOp::Info(info) = &ops[0] else {
        panic!("not INFO: {:?}", ops[0])
    };
    assert_eq!(info.server_id, "S1");
    assert_eq!(info.version, "2.15.1");
    assert_eq!(info.max_payload, 1_048_576);
    assert!(info.headers);
    assert_eq!(info.connect_urls, ["10.0.0.2:4222"]);
    assert_eq!(ops[1], ServerOp::Ok);
    assert_eq!(ops[2], ServerOp::Ping);

    let (sid, m) = msg(&ops[3]);
    assert_eq!(sid, 9);
    assert_eq!(m.subject, "foo.bar");
    assert_eq!(m.reply, None);
    assert_eq!(&m.payload[..], b"hello");
    assert_eq!(m.headers, None);

    let (sid, m) = msg(&ops[4]);
    assert_eq!(sid, 10);
    assert_eq!(m.reply.as_deref(), Some("_INBOX.x.1"));
    assert!(m.payload.is_empty());

    let (sid, m) = msg(&ops[5]);
    assert_eq!(sid, 3);
    assert_eq!(m.subject, "a.b");
    assert_eq!(m.reply.as_deref(), Some("reply.to"));
    assert_eq!(&m.payload[..], b"world");
    let headers = m.headers.as_ref().expect("headers");
    assert_eq!(headers.get_all("A").collect::<Vec<_>>(), ["1", "2"]);
    assert_eq!(m.status, None);
    assert_eq!(m.length, 29);

    let (sid, m) = msg(&ops[6]);
    assert_eq!(sid, 4);
    assert_eq!(m.status, Some(StatusCode::NO_RESPONDERS));
    assert!(m.is_no_responders());

    assert_eq!(ops[7], ServerOp::Pong);
    assert_eq!(ops[8], ServerOp::Err("Unknown Protocol Operation".into()));
}

#[test]
fn parses_every_operation() {
    check_multi_frame(&parse_all(MULTI_FRAME));
}

#[test]
fn every_single_split_point_gives_the_same_operations() {
    for split in 0..=MULTI_FRAME.len() {
        let (a, b) = MULTI_FRAME.split_at(split);
        let ops = parse_chunks(&[a, b]).unwrap_or_else(|e| panic!("split {split}: {e}"));
        check_multi_frame(&ops);
    }
}

#[test]
fn byte_by_byte_gives_the_same_operations() {
    let chunks: Vec<&[u8]> = MULTI_FRAME.chunks(1).collect();
    check_multi_frame(&parse_chunks(&chunks).expect("valid"));
}

#[test]
fn incomplete_frames_wait_for_more() {
    let mut parser = Parser::default();
    let mut buf = BytesMut::from(&b"MSG a 1 5\r\nhel"[..]);
    assert_eq!(parser.parse(&mut buf), Ok(None));
    buf.extend_from_slice(b"lo\r");
    assert_eq!(parser.parse(&mut buf), Ok(None));
    buf.extend_from_slice(b"\nPI");
    let op = parser.parse(&mut buf).expect("ok").expect("a message");
    assert_eq!(&msg(&op).1.payload[..], b"hello");
    assert_eq!(parser.parse(&mut buf), Ok(None));
    assert_eq!(&buf[..], b"PI");
}

#[test]
fn lowercase_ops_and_tabs_are_accepted() {
    let ops = parse_all(b"msg\ta.b\t7\t2\r\nhi\r\nping\r\n");
    assert_eq!(msg(&ops[0]).0, 7);
    assert_eq!(ops[1], ServerOp::Ping);
}

#[test]
fn payload_may_contain_crlf_and_protocol_text() {
    let ops = parse_all(b"MSG a 1 12\r\nPING\r\nPONG\r\n\r\n");
    assert_eq!(ops.len(), 1);
    assert_eq!(&msg(&ops[0]).1.payload[..], b"PING\r\nPONG\r\n");
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    let cases: &[&[u8]] = &[
        b"HELLO world\r\n",
        b"MSG\r\n",
        b"MSG a\r\n",
        b"MSG a b 5\r\nhello\r\n",
        b"MSG a 1 x\r\n",
        b"MSG a 1 r 2 3 4\r\n",
        b"MSG a 1 5\r\nhelloXX",
        b"HMSG a 1 10 5\r\n",
        b"MSG a 1 99999999999999999999999\r\n",
        b"\x00\x01\r\n",
    ];
    for case in cases {
        let result = parse_chunks(&[case]);
        assert!(
            result.is_err(),
            "{:?} gave {result:?}",
            String::from_utf8_lossy(case)
        );
    }
}

#[test]
fn malformed_messages_are_taken_off_the_stream_which_goes_on() {
    let cases: &[(&[u8], &str)] = &[
        (b"HMSG a 1 5 5\r\nhello\r\n", "invalid header block on a"),
        (
            b"HMSG a 1 12 12\r\nNATS/1.0\r\nxx\r\n",
            "invalid header block",
        ),
        (
            b"HMSG a 1 22 22\r\nNATS/1.0\r\nno colon\r\n\r\n\r\n",
            "invalid header block",
        ),
        (b"MSG \xff\xfe 1 0\r\n\r\n", "subject is not UTF-8"),
        (b"MSG a 1 \xff 0\r\n\r\n", "reply subject of a is not UTF-8"),
    ];
    for (case, reason) in cases {
        let mut input = case.to_vec();
        input.extend_from_slice(b"PING\r\n");
        let ops = parse_chunks(&[&input]).expect("the stream is intact");
        match &ops[..] {
            [ServerOp::Malformed {
                sid: 1,
                reason: got,
            }, ServerOp::Ping] => {
                assert!(
                    got.contains(reason),
                    "{got:?} for {:?}",
                    String::from_utf8_lossy(case)
                );
            }
            other => panic!("{:?} gave {other:?}", String::from_utf8_lossy(case)),
        }
    }
}

#[test]
fn an_info_that_is_not_json_is_reported_and_the_stream_goes_on() {
    let ops = parse_all(b"INFO {not json}\r\nINFO {\"max_payload\":\"big\"}\r\nPONG\r\n");
    assert!(
        matches!(
            &ops[..],
            [
                ServerOp::InvalidInfo(_),
                ServerOp::InvalidInfo(_),
                ServerOp::Pong
            ]
        ),
        "{ops:?}"
    );
}

#[test]
fn an_oversized_message_is_skipped_without_being_buffered() {
    let mut parser = Parser::default();
    parser.set_max_payload(100);
    let size = 100 + HEADER_ROOM + 1;
    let mut buf = BytesMut::from(format!("MSG big 3 {size}\r\n").as_bytes());
    assert_eq!(
        parser.parse(&mut buf),
        Ok(Some(ServerOp::Oversized { sid: 3, size }))
    );
    // The payload arrives in pieces; each is discarded at once.
    let mut left = size + 2;
    while left > 0 {
        let n = left.min(4096);
        buf.extend_from_slice(&vec![b'x'; n]);
        left -= n;
        assert_eq!(parser.parse(&mut buf), Ok(None));
        assert!(
            buf.is_empty(),
            "nothing of the oversized message stays buffered"
        );
    }
    buf.extend_from_slice(b"MSG small 4 2\r\nok\r\n");
    let op = parser.parse(&mut buf).expect("ok").expect("a message");
    assert_eq!(msg(&op).0, 4);
    // A server that claims an absurd max_payload is held to nats-server's ceiling.
    let mut boastful = Parser::default();
    boastful.set_max_payload(usize::MAX);
    let mut buf = BytesMut::from(&b"MSG a 1 999999999999999999\r\n"[..]);
    assert!(matches!(
        boastful.parse(&mut buf),
        Ok(Some(ServerOp::Oversized { .. }))
    ));
    // The limit before the server said anything: its default max_payload, 1 MiB.
    let mut fresh = Parser::default();
    let mut buf = BytesMut::from(&b"MSG a 1 999999999999999999\r\n"[..]);
    assert!(matches!(
        fresh.parse(&mut buf),
        Ok(Some(ServerOp::Oversized { .. }))
    ));
}

#[test]
fn a_control_line_without_end_is_bounded() {
    let long = vec![b'A'; MAX_CONTROL_LINE + 10];
    assert_eq!(parse_chunks(&[&long]), Err(ParseError::ControlLineTooLong));
}

proptest! {
    #[test]
    fn random_splits_never_change_the_result(cuts in proptest::collection::vec(0..MULTI_FRAME.len(), 0..12)) {
        let mut cuts = cuts;
        cuts.sort_unstable();
        let mut chunks = Vec::new();
        let mut last = 0;
        for cut in cuts {
            chunks.push(&MULTI_FRAME[last..cut]);
            last = cut;
        }
        chunks.push(&MULTI_FRAME[last..]);
        check_multi_frame(&parse_chunks(&chunks).expect("valid"));
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), split in 0usize..512) {
        let split = split.min(bytes.len());
        let _ = parse_chunks(&[&bytes[..split], &bytes[split..]]);
    }

    #[test]
    fn random_bytes_after_valid_frames_never_panic(
        prefix in proptest::sample::select(vec![&b"PING\r\n"[..], b"MSG a 1 ", b"HMSG a 1 12 ", b"INFO ", b"MSG a 1 3\r\n"]),
        bytes in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let mut input = prefix.to_vec();
        input.extend_from_slice(&bytes);
        let _ = parse_chunks(&[&input]);
    }

    #[test]
    fn arbitrary_messages_round_trip(
        subject in "[a-z]{1,8}(\\.[a-z0-9]{1,8}){0,3}",
        sid in 1u64..1_000_000,
        payload in proptest::collection::vec(any::<u8>(), 0..300),
        split in 0usize..400,
    ) {
        let mut frame = format!("MSG {subject} {sid} {}\r\n", payload.len()).into_bytes();
        frame.extend_from_slice(&payload);
        frame.extend_from_slice(b"\r\n");
        let split = split.min(frame.len());
        let ops = parse_chunks(&[&frame[..split], &frame[split..]]).expect("valid");
        prop_assert_eq!(ops.len(), 1);
        let (got_sid, m) = msg(&ops[0]);
        prop_assert_eq!(got_sid, sid);
        prop_assert_eq!(m.subject.as_str(), subject.as_str());
        prop_assert_eq!(&m.payload[..], &payload[..]);
    }
}
