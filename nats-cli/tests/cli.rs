//! Runs the `nats-rs` binary against real servers and a real nats-micro service started by
//! each test, and checks what it prints (text and `--json`) and how it exits.

mod support;

use std::process::Command;

use serde_json::Value;
use tempfile::TempDir;

use support::{nats_rs, rows, write_context, Bus, Running, DEAD_SERVER, SERVICE};

#[test]
fn micro_ls_lists_every_instance_as_a_table_and_as_json() {
    let bus = Bus::start();
    let out = bus.run(&["micro", "ls"]).success().stdout;
    let rows = rows(&out);
    assert_eq!(rows[0], ["Name", "Version", "ID", "Description"], "{out}");
    let mut expected: Vec<Vec<String>> = bus
        .services
        .iter()
        .map(|s| {
            let description = format!("the {} service", s.name());
            vec![
                s.name().into(),
                s.version().into(),
                s.id().into(),
                description,
            ]
        })
        .collect();
    expected.sort();
    assert_eq!(rows[1..], expected[..], "{out}");
    assert!(out.contains("3 service instances"), "{out}");

    let json = bus.run(&["micro", "ls", "--json"]).success().json();
    let list = json.as_array().expect("an array");
    assert_eq!(list.len(), 3, "{json:#}");
    let other = list.iter().find(|i| i["name"] == "other").expect("other");
    assert_eq!(other["version"], "2.1.0");
    assert_eq!(other["description"], "the other service");
    assert_eq!(other["type"], "io.nats.micro.v1.info_response");
    assert_eq!(other["metadata"]["team"], "tools");
    assert_eq!(other["endpoints"][0]["subject"], "other.echo");

    // A name lists only its instances.
    let json = bus
        .run(&["--json", "micro", "ls", SERVICE])
        .success()
        .json();
    let ids: Vec<&str> = json
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert_eq!(ids, bus.ids(), "{json:#}");
}

#[test]
fn micro_ls_without_services_says_so() {
    let bus = Bus::with_services(&[]);
    let out = bus.run(&["micro", "ls"]).success().stdout;
    assert_eq!(out, "no services found\n");
    let json = bus.run(&["micro", "ls", "--json"]).success().json();
    assert_eq!(json, serde_json::json!([]));
}

#[test]
fn micro_info_shows_identity_metadata_and_endpoints() {
    let bus = Bus::start();
    let id = &bus.ids()[1];
    let out = bus.run(&["micro", "info", SERVICE, id]).success().stdout;
    for (name, value) in [
        ("Service:", SERVICE),
        ("ID:", id.as_str()),
        ("Version:", "1.0.0"),
        ("Description:", "the clitest service"),
        ("Metadata:", "team=tools"),
    ] {
        assert!(
            out.lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")
                    == format!("{name} {value}")),
            "no {name} {value} in:\n{out}"
        );
    }
    let rows = rows(&out);
    assert_eq!(
        rows[0],
        ["Name", "Subject", "Queue Group", "Metadata"],
        "{out}"
    );
    assert_eq!(
        rows[1],
        ["echo", "clitest.echo", "q", "kind=mirror"],
        "{out}"
    );
    assert_eq!(rows[2], ["fail", "clitest.fail", "q", "-"], "{out}");

    // Without an id: the first instance to answer, and how many did.
    let out = bus.run(&["micro", "info", SERVICE]).success().stdout;
    assert!(out.contains("2 answered"), "{out}");

    let json = bus
        .run(&["micro", "info", SERVICE, id, "--json"])
        .success()
        .json();
    assert_eq!(json["name"], SERVICE);
    assert_eq!(json["id"], id.as_str());
    assert_eq!(json["endpoints"][1]["name"], "fail");
    assert_eq!(json["endpoints"][1]["queue_group"], "q");
    assert_eq!(json["endpoints"][0]["metadata"]["kind"], "mirror");

    let missing = bus.run(&["micro", "info", "nosuch"]);
    assert_eq!(missing.code(), Some(1), "{missing:#?}");
    assert_eq!(
        missing.stderr,
        "nats-rs: no instance of service \"nosuch\" answered\n"
    );
}

#[test]
fn micro_stats_shows_requests_errors_times_and_the_last_error() {
    let bus = Bus::with_services(&[(SERVICE, "1.0.0")]);
    assert_eq!(bus.request("clitest.echo", "one"), "one");
    assert_eq!(bus.request("clitest.echo", "two"), "two");
    assert_eq!(bus.request("clitest.fail", "x"), "");
    let id = bus.ids().remove(0);

    let out = bus.run(&["micro", "stats", SERVICE]).success().stdout;
    let rows = rows(&out);
    assert_eq!(
        rows[0],
        [
            "ID",
            "Endpoint",
            "Queue Group",
            "Requests",
            "Errors",
            "Processing Time",
            "Average Time",
            "Last Error"
        ],
        "{out}"
    );
    assert_eq!(rows[1][..5], [&id, "echo", "q", "2", "0"], "{out}");
    assert_eq!(rows[1][7], "-", "{out}");
    assert_eq!(rows[2][..5], ["", "fail", "q", "1", "1"], "{out}");
    assert_eq!(rows[2][7], "404:no such user", "{out}");
    assert_eq!(rows[3][..5], ["total", "", "", "3", "1"], "{out}");
    // Average times are human durations: a number and a unit.
    let average = &rows[1][6];
    let unit = average.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
    assert!(["ns", "µs", "ms", "s"].contains(&unit), "{out}");

    let json = bus
        .run(&["micro", "stats", SERVICE, &id, "--json"])
        .success()
        .json();
    let stats = &json[0];
    assert_eq!(stats["id"], id.as_str());
    assert_eq!(stats["type"], "io.nats.micro.v1.stats_response");
    let fail = &stats["endpoints"][1];
    assert_eq!(fail["name"], "fail");
    assert_eq!(fail["num_requests"], 1);
    assert_eq!(fail["num_errors"], 1);
    assert_eq!(fail["last_error"], "404:no such user");
    assert!(stats["endpoints"][0]["processing_time"].as_u64() > Some(0));
}

#[test]
fn micro_ping_shows_each_instance_with_its_round_trip_time() {
    let bus = Bus::start();
    let out = bus.run(&["micro", "ping"]).success().stdout;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    for service in &bus.services {
        let line = lines
            .iter()
            .find(|l| l.contains(service.id()))
            .unwrap_or_else(|| panic!("no line for {} in:\n{out}", service.id()));
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            words[..3],
            [service.name(), service.version(), service.id()]
        );
        assert!(words[3].starts_with("rtt="), "{line}");
    }

    let json = bus
        .run(&["micro", "ping", SERVICE, "--json"])
        .success()
        .json();
    let pongs = json.as_array().expect("an array");
    assert_eq!(pongs.len(), 2, "{json:#}");
    for pong in pongs {
        assert_eq!(pong["name"], SERVICE);
        assert_eq!(pong["type"], "io.nats.micro.v1.ping_response");
        assert!(pong["rtt"].as_u64() > Some(0), "{json:#}");
    }

    let missing = bus.run(&["micro", "ping", "nosuch"]);
    assert_eq!(missing.code(), Some(1), "{missing:#?}");
    assert!(missing.stderr.contains("no instance of service \"nosuch\""));
}

#[test]
fn pub_then_sub_with_count_prints_subject_headers_and_body() {
    let bus = Bus::with_services(&[]);
    let mut sub = bus.nats_rs();
    sub.args(["sub", "cli.test.>", "--count", "3"]);
    let mut sub = Running::start(sub);
    sub.wait_for_stderr("subscribed to \"cli.test.>\"");

    let published = bus
        .run(&[
            "pub",
            "cli.test.{{Count}}",
            "message {{Count}}",
            "--count",
            "3",
            "-H",
            "X-Test:yes",
            "-H",
            "X-Test: again",
        ])
        .success();
    assert!(
        published.stderr.contains("published 3 messages"),
        "{published:#?}"
    );

    let out = sub.finish().success().stdout;
    let expected = (1..=3)
        .map(|n| {
            format!(
                "[#{n}] received on \"cli.test.{n}\"\nX-Test: yes\nX-Test: again\n\nmessage {n}\n\n"
            )
        })
        .collect::<String>();
    assert_eq!(out, expected);
}

#[test]
fn sub_json_prints_one_object_a_line() {
    let bus = Bus::with_services(&[]);
    let mut sub = bus.nats_rs();
    sub.args(["--json", "sub", "cli.json", "--count", "2"]);
    let mut sub = Running::start(sub);
    sub.wait_for_stderr("subscribed to");
    bus.run(&["pub", "cli.json", "plain"]).success();
    bus.run(&[
        "pub",
        "cli.json",
        "{\"a\":1}",
        "--reply",
        "answers.here",
        "-H",
        "K:V",
    ])
    .success();

    let out = sub.finish().success().stdout;
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(
        lines,
        [
            serde_json::json!({"subject": "cli.json", "reply": null, "headers": {}, "data": "plain"}),
            serde_json::json!({
                "subject": "cli.json",
                "reply": "answers.here",
                "headers": {"K": ["V"]},
                "data": "{\"a\":1}"
            }),
        ]
    );
}

#[test]
fn request_to_an_endpoint_prints_the_reply() {
    let bus = Bus::with_services(&[(SERVICE, "1.0.0")]);
    let out = bus.run(&["request", "clitest.echo", "hello"]).success();
    assert_eq!(out.stdout, "hello\n");
    assert!(out.stderr.contains("received a reply in"), "{out:#?}");

    let json = bus
        .run(&["request", "clitest.echo", "hi {{Count}}", "--json"])
        .success()
        .json();
    assert_eq!(json["data"], "hi 1");
    assert!(
        json["subject"]
            .as_str()
            .is_some_and(|s| s.starts_with("_INBOX.")),
        "{json:#}"
    );
}

#[test]
fn request_to_an_erroring_endpoint_prints_the_service_error_and_exits_1() {
    let bus = Bus::with_services(&[(SERVICE, "1.0.0")]);
    let out = bus.run(&["request", "clitest.fail", "x"]);
    assert_eq!(out.code(), Some(1), "{out:#?}");
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .ends_with("nats-rs: service error 404: no such user\n"),
        "{out:#?}"
    );
    // The error headers are shown too.
    assert!(
        out.stderr.contains("Nats-Service-Error-Code: 404"),
        "{out:#?}"
    );
}

#[test]
fn request_with_no_responders_exits_1_saying_so() {
    let bus = Bus::with_services(&[]);
    let out = bus.run(&["request", "nobody.home", "x"]);
    assert_eq!(out.code(), Some(1), "{out:#?}");
    assert_eq!(out.stderr, "nats-rs: no responders on \"nobody.home\"\n");
}

#[test]
fn request_that_nobody_answers_times_out_with_exit_1() {
    let bus = Bus::with_services(&[]);
    // A subscriber that never replies: the request has a responder but no reply.
    let _silent = bus.runtime.block_on(async {
        let subscriber = bus.client.subscribe("silent.one").await.expect("subscribe");
        bus.client.flush().await.expect("flush");
        subscriber
    });
    let out = bus.run(&["--timeout", "300ms", "request", "silent.one", "x"]);
    assert_eq!(out.code(), Some(1), "{out:#?}");
    assert_eq!(
        out.stderr,
        "nats-rs: no reply on \"silent.one\" within 300ms\n"
    );
}

#[test]
fn sub_in_a_queue_group_receives() {
    let bus = Bus::with_services(&[]);
    let mut sub = bus.nats_rs();
    sub.args(["sub", "cli.work", "--queue", "workers", "--count", "1"]);
    let mut sub = Running::start(sub);
    sub.wait_for_stderr("subscribed to \"cli.work\" in queue group \"workers\"");
    bus.run(&["pub", "cli.work", "job"]).success();
    let out = sub.finish().success().stdout;
    assert_eq!(out, "[#1] received on \"cli.work\"\njob\n\n");
}

#[test]
fn reply_answers_requests_until_its_count() {
    let bus = Bus::with_services(&[]);
    let mut reply = bus.nats_rs();
    reply.args([
        "reply",
        "cli.reply",
        "pong {{Count}}",
        "--count",
        "2",
        "-H",
        "By:cli",
    ]);
    let mut reply = Running::start(reply);
    reply.wait_for_stderr("answering requests on \"cli.reply\"");

    assert_eq!(bus.request("cli.reply", "ping"), "pong 1");
    assert_eq!(bus.request("cli.reply", "ping again"), "pong 2");

    let out = reply.finish().success().stdout;
    let received: Vec<&str> = out.lines().filter(|l| l.starts_with("[#")).collect();
    assert_eq!(received.len(), 2, "{out}");
    assert!(
        received[0].starts_with("[#1] received on \"cli.reply\" with reply \"_INBOX."),
        "{out}"
    );
    assert!(
        out.contains("\nping\n") && out.contains("\nping again\n"),
        "{out}"
    );
}

#[test]
fn settings_come_from_the_context_then_the_environment_then_the_flags() {
    let bus = Bus::with_services(&[(SERVICE, "1.0.0")]);
    let config = bus.config.path();
    write_context(config, "good", &bus.server.url());
    write_context(config, "dead", DEAD_SERVER);
    let echo = |setup: &dyn Fn(&mut Command)| {
        let mut command = nats_rs(config);
        setup(&mut command);
        command.args(["request", "clitest.echo", "via"]);
        Running::start(command).finish()
    };

    // --context, NATS_CONTEXT, and NATS_URL alone each find the server.
    let out = echo(&|c| {
        c.args(["--context", "good"]);
    });
    assert_eq!(out.success().stdout, "via\n");
    let out = echo(&|c| {
        c.env("NATS_CONTEXT", "good");
    });
    assert_eq!(out.success().stdout, "via\n");
    let out = echo(&|c| {
        c.env("NATS_URL", bus.server.url());
    });
    assert_eq!(out.success().stdout, "via\n");

    // The environment over the context, the flags over both.
    let out = echo(&|c| {
        c.args(["--context", "dead"])
            .env("NATS_URL", bus.server.url());
    });
    assert_eq!(out.success().stdout, "via\n");
    let out = echo(&|c| {
        c.args(["--context", "dead", "--server", &bus.server.url()])
            .env("NATS_URL", DEAD_SERVER);
    });
    assert_eq!(out.success().stdout, "via\n");
    let out = echo(&|c| {
        c.args(["--context", "good"]).env("NATS_URL", DEAD_SERVER);
    });
    assert_eq!(out.code(), Some(1), "{out:#?}");
    assert!(
        out.stderr
            .starts_with("nats-rs: cannot connect to nats://127.0.0.1:1"),
        "{out:#?}"
    );

    // A context that does not exist is named.
    let out = echo(&|c| {
        c.args(["--context", "nosuch"]);
    });
    assert_eq!(out.code(), Some(1), "{out:#?}");
    assert!(
        out.stderr.starts_with("nats-rs: context \"nosuch\""),
        "{out:#?}"
    );
}

#[test]
fn a_bad_server_is_an_error_naming_where_it_came_from() {
    let config = TempDir::new().expect("a config directory");
    let run = |setup: &dyn Fn(&mut Command)| {
        let mut command = nats_rs(config.path());
        setup(&mut command);
        command.args(["pub", "x", "y"]);
        Running::start(command).finish()
    };
    let out = run(&|c| {
        c.args(["--server", "nats://:x"]);
    });
    assert_eq!(out.code(), Some(1), "{out:#?}");
    assert!(
        out.stderr.starts_with("nats-rs: --server: \"nats://:x\""),
        "{out:#?}"
    );

    let out = run(&|c| {
        c.env("NATS_URL", "nats://:x");
    });
    assert_eq!(out.code(), Some(1), "{out:#?}");
    assert!(out.stderr.starts_with("nats-rs: NATS_URL: "), "{out:#?}");

    let path = write_context(config.path(), "broken", "nats://:x");
    let out = run(&|c| {
        c.args(["--context", "broken"]);
    });
    assert_eq!(out.code(), Some(1), "{out:#?}");
    let field = format!(
        "nats-rs: field \"url\" of context \"broken\" ({})",
        path.display()
    );
    assert!(out.stderr.starts_with(&field), "{out:#?}");

    // A usage error is clap's, with status 2.
    let out = run(&|c| {
        c.args(["--timeout", "soon"]);
    });
    assert_eq!(out.code(), Some(2), "{out:#?}");
    assert!(out.stderr.contains("--timeout"), "{out:#?}");
}
