//! Runs the `nats-rs` binary's `stream`, `kv` and `object` commands against real servers
//! with JetStream started by each test, and checks what they print (text and `--json`),
//! what they store and how they exit.

mod support;

use std::time::Duration;

use base64::Engine as _;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

use support::{rows, Bus};

/// Whether `out` has the line `name: value`, whatever the alignment.
fn has_field(out: &str, name: &str, value: &str) -> bool {
    let wanted = format!("{name}: {value}");
    out.lines()
        .any(|line| line.split_whitespace().collect::<Vec<_>>().join(" ") == wanted)
}

/// Fails the test unless `out` has the line `name: value`.
#[track_caller]
fn assert_field(out: &str, name: &str, value: &str) {
    assert!(has_field(out, name, value), "no {name}: {value} in:\n{out}");
}

/// Fails the test unless the run exited 1 with exactly `message` on stderr.
#[track_caller]
fn assert_fails(outcome: &support::Outcome, message: &str) {
    assert_eq!(outcome.code(), Some(1), "{outcome:#?}");
    assert_eq!(
        outcome.stderr,
        format!("nats-rs: {message}\n"),
        "{outcome:#?}"
    );
}

#[test]
fn stream_add_ls_info_and_rm() {
    let bus = Bus::jetstream();
    assert_eq!(
        bus.run(&["stream", "ls"]).success().stdout,
        "no streams found\n"
    );
    assert_eq!(
        bus.run(&["stream", "ls", "--json"]).success().json(),
        serde_json::json!([])
    );

    let out = bus
        .run(&[
            "stream",
            "add",
            "ORDERS",
            "--subjects",
            "orders.*,billing.>",
            "--storage",
            "memory",
            "--max-age",
            "1h",
            "--max-msgs",
            "100",
            "--max-bytes",
            "1MB",
            "--description",
            "the orders",
        ])
        .success()
        .stdout;
    assert!(out.starts_with("created stream \"ORDERS\"\n"), "{out}");
    assert_field(&out, "Subjects", "orders.*, billing.>");
    assert_field(&out, "Storage", "memory");
    assert_field(&out, "Maximum Age", "1h");
    assert_field(&out, "Maximum Messages", "100");
    assert_field(&out, "Maximum Bytes", "1.0 MiB");
    assert_field(&out, "Messages", "0");

    // Three messages, acknowledged by the stream.
    bus.runtime.block_on(async {
        let js = bus.client.jetstream();
        for n in 1..=3 {
            js.publish("orders.new", format!("order {n}"))
                .await
                .expect("stored");
        }
    });

    let out = bus.run(&["stream", "ls"]).success().stdout;
    let rows = rows(&out);
    assert_eq!(
        rows[0],
        [
            "Name",
            "Description",
            "Created",
            "Messages",
            "Size",
            "Last Message"
        ],
        "{out}"
    );
    assert_eq!(rows.len(), 2, "{out}");
    assert_eq!(rows[1][..2], ["ORDERS", "the orders"], "{out}");
    assert!(rows[1][2].ends_with(" UTC"), "{out}");
    assert_eq!(rows[1][3], "3", "{out}");
    assert!(rows[1][4].ends_with(" B"), "{out}");
    assert_ne!(rows[1][5], "never", "{out}");

    let json = bus.run(&["stream", "ls", "--json"]).success().json();
    let streams = json.as_array().expect("an array of stream infos");
    assert_eq!(streams.len(), 1, "{json:#}");
    assert_eq!(streams[0]["config"]["name"], "ORDERS");
    assert_eq!(streams[0]["config"]["storage"], "memory");
    assert_eq!(streams[0]["config"]["max_age"], 3_600_000_000_000u64);
    assert_eq!(streams[0]["state"]["messages"], 3);

    let out = bus.run(&["stream", "info", "ORDERS"]).success().stdout;
    assert!(
        out.starts_with("Information for stream ORDERS created "),
        "{out}"
    );
    assert_field(&out, "Description", "the orders");
    assert_field(&out, "Retention", "limits");
    assert_field(&out, "Messages", "3");
    assert!(
        out.lines()
            .any(|l| l.trim_start().starts_with("Last Sequence: 3 @ ")),
        "{out}"
    );
    let json = bus
        .run(&["stream", "info", "ORDERS", "--json"])
        .success()
        .json();
    assert_eq!(
        json["config"]["subjects"],
        serde_json::json!(["orders.*", "billing.>"])
    );
    assert_eq!(json["config"]["max_msgs"], 100);
    assert_eq!(json["state"]["last_seq"], 3);

    // Subjects filter the listing.
    let json = bus
        .run(&["stream", "ls", "--subject", "billing.eu", "--json"])
        .success()
        .json();
    assert_eq!(json.as_array().map(Vec::len), Some(1), "{json:#}");
    let json = bus
        .run(&["stream", "ls", "--subject", "nothing.here", "--json"])
        .success()
        .json();
    assert_eq!(json, serde_json::json!([]));

    // Without a terminal to ask on, deleting needs --force.
    let refused = bus.run(&["stream", "rm", "ORDERS"]);
    assert_fails(
        &refused,
        "give --force to delete stream \"ORDERS\": standard input is not a terminal to ask on",
    );
    bus.run(&["stream", "info", "ORDERS"]).success();
    let out = bus.run(&["stream", "rm", "ORDERS", "-f"]).success().stdout;
    assert_eq!(out, "deleted stream \"ORDERS\"\n");
    assert_eq!(
        bus.run(&["stream", "ls"]).success().stdout,
        "no streams found\n"
    );

    assert_fails(
        &bus.run(&["stream", "info", "ORDERS"]),
        "stream \"ORDERS\" not found",
    );
    assert_fails(
        &bus.run(&["stream", "rm", "ORDERS", "--force"]),
        "stream \"ORDERS\" not found",
    );
}

#[test]
fn stream_add_refuses_bad_settings() {
    let bus = Bus::jetstream();
    // Flags that do not parse are usage errors, named by clap.
    for args in [
        &["stream", "add", "S", "--max-age", "5"][..],
        &["stream", "add", "S", "--storage", "tape"],
        &["stream", "add", "S", "--max-bytes", "10XB"],
    ] {
        let outcome = bus.run(args);
        assert_eq!(outcome.code(), Some(2), "{args:?}: {outcome:#?}");
    }
    // A name the server cannot take is the server's refusal.
    let outcome = bus.run(&["stream", "add", "a.b"]);
    assert_eq!(outcome.code(), Some(1), "{outcome:#?}");
    assert!(
        outcome
            .stderr
            .starts_with("nats-rs: cannot create stream \"a.b\": "),
        "{outcome:#?}"
    );
    // The same name with other settings.
    bus.run(&["stream", "add", "S", "--subjects", "s.>"])
        .success();
    let outcome = bus.run(&["stream", "add", "S", "--subjects", "t.>"]);
    assert_eq!(outcome.code(), Some(1), "{outcome:#?}");
    assert!(
        outcome
            .stderr
            .contains("one of that name exists with other settings"),
        "{outcome:#?}"
    );
}

#[test]
fn stream_ls_leaves_the_buckets_streams_out_unless_all() {
    let bus = Bus::jetstream();
    bus.run(&["kv", "add", "config"]).success();
    bus.run(&["object", "add", "files"]).success();
    let out = bus.run(&["stream", "ls"]).success().stdout;
    assert_eq!(
        out,
        "no streams found; --all lists the streams of buckets too\n"
    );
    let out = bus.run(&["stream", "ls", "--all"]).success().stdout;
    let names: Vec<String> = rows(&out)[1..].iter().map(|r| r[0].clone()).collect();
    assert_eq!(names, ["KV_config", "OBJ_files"], "{out}");
}

#[test]
fn kv_add_put_get_del_ls_and_rm() {
    let bus = Bus::jetstream();
    assert_eq!(
        bus.run(&["kv", "ls"]).success().stdout,
        "no buckets found\n"
    );

    let out = bus
        .run(&[
            "kv",
            "add",
            "profiles",
            "--history",
            "5",
            "--ttl",
            "1h",
            "--description",
            "user profiles",
        ])
        .success()
        .stdout;
    assert!(out.starts_with("created bucket \"profiles\"\n"), "{out}");
    assert_field(&out, "Bucket Name", "profiles");
    assert_field(&out, "History Kept", "5");
    assert_field(&out, "Maximum Age", "1h");
    assert_field(&out, "JetStream Stream", "KV_profiles");

    // put prints the revision.
    let put = |key: &str, value: &str| bus.run(&["kv", "put", "profiles", key, value]);
    assert_eq!(put("ann", "v1").success().stdout, "1\n");
    assert_eq!(put("ann", "v2").success().stdout, "2\n");
    assert_eq!(put("bob", "b1").success().stdout, "3\n");

    // get prints the value as stored (no newline added in a pipe).
    let get = bus.run(&["kv", "get", "profiles", "ann"]).success();
    assert_eq!(
        get.stdout, "v2\n",
        "the harness ends the last line: {get:#?}"
    );
    let (status, bytes, _) = bus.run_bytes(&["kv", "get", "profiles", "ann"]);
    assert!(status.success());
    assert_eq!(bytes, b"v2");
    let old = bus.run(&["kv", "get", "profiles", "ann", "--revision", "1"]);
    assert_eq!(old.success().stdout, "v1\n");

    let json = bus
        .run(&["kv", "get", "profiles", "ann", "--json"])
        .success()
        .json();
    assert_eq!(json["bucket"], "profiles");
    assert_eq!(json["key"], "ann");
    assert_eq!(json["revision"], 2);
    assert_eq!(json["operation"], "PUT");
    assert_eq!(json["value"], "v2");
    let created = json["created"].as_str().expect("created");
    time::OffsetDateTime::parse(created, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("created {created:?} is not RFC 3339: {e}"));

    // A value from stdin, not UTF-8: base64 in the JSON.
    let binary = [0xff, 0x00, 0xfe, b'\n'];
    let out = bus.run_with_input(&["kv", "put", "profiles", "raw"], &binary);
    assert_eq!(out.success().stdout, "4\n");
    let json = bus
        .run(&["kv", "get", "profiles", "raw", "--json"])
        .success()
        .json();
    assert_eq!(json.get("value"), None, "{json:#}");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(json["value_base64"].as_str().expect("value_base64"))
        .expect("base64");
    assert_eq!(decoded, binary);

    let out = bus.run(&["kv", "ls"]).success().stdout;
    let rows = rows(&out);
    assert_eq!(
        rows[0],
        [
            "Bucket",
            "Description",
            "Created",
            "Size",
            "Values",
            "Last Update"
        ],
        "{out}"
    );
    assert_eq!(rows[1][..2], ["profiles", "user profiles"], "{out}");
    assert_eq!(rows[1][4], "4", "{out}");
    let json = bus.run(&["kv", "ls", "--json"]).success().json();
    assert_eq!(json[0]["bucket"], "profiles", "{json:#}");
    assert_eq!(json[0]["values"], 4);
    assert_eq!(json[0]["history"], 5);
    assert_eq!(json[0]["ttl"], 3_600_000_000_000u64);
    assert_eq!(json[0]["storage"], "file");
    let json = bus
        .run(&["kv", "info", "profiles", "--json"])
        .success()
        .json();
    assert_eq!(json["stream"], "KV_profiles");
    assert_eq!(json["description"], "user profiles");

    // Deleting leaves a marker: the key has no value any more, its history stays.
    let out = bus.run(&["kv", "del", "profiles", "ann"]).success().stdout;
    assert_eq!(out, "deleted key \"ann\" in bucket \"profiles\"\n");
    let missing = "key \"ann\" not found in bucket \"profiles\"";
    assert_fails(&bus.run(&["kv", "get", "profiles", "ann"]), missing);
    assert_fails(&bus.run(&["kv", "del", "profiles", "ann"]), missing);
    let old = bus.run(&["kv", "get", "profiles", "ann", "--revision", "2"]);
    assert_eq!(old.success().stdout, "v2\n");
    assert_fails(
        &bus.run(&["kv", "get", "profiles", "ann", "--revision", "3"]),
        "key \"ann\" has no value at revision 3 in bucket \"profiles\"",
    );
    assert_fails(
        &bus.run(&["kv", "get", "profiles", "nobody"]),
        "key \"nobody\" not found in bucket \"profiles\"",
    );

    assert_fails(
        &bus.run(&["kv", "rm", "profiles"]),
        "give --force to delete bucket \"profiles\" and every key in it: standard input is \
         not a terminal to ask on",
    );
    let out = bus.run(&["kv", "rm", "profiles", "-f"]).success().stdout;
    assert_eq!(out, "deleted bucket \"profiles\"\n");
    assert_eq!(
        bus.run(&["kv", "ls"]).success().stdout,
        "no buckets found\n"
    );
}

#[test]
fn kv_commands_on_a_missing_bucket_say_so() {
    let bus = Bus::jetstream();
    let missing = "bucket \"nothere\" not found";
    for args in [
        &["kv", "get", "nothere", "k"][..],
        &["kv", "put", "nothere", "k", "v"],
        &["kv", "del", "nothere", "k"],
        &["kv", "info", "nothere"],
        &["kv", "rm", "nothere", "-f"],
    ] {
        assert_fails(&bus.run(args), missing);
    }
    // A name no bucket can have is refused before anything is sent.
    let outcome = bus.run(&["kv", "get", "no.dots", "k"]);
    assert_eq!(outcome.code(), Some(1), "{outcome:#?}");
    assert!(
        outcome
            .stderr
            .starts_with("nats-rs: cannot read bucket \"no.dots\": invalid bucket name"),
        "{outcome:#?}"
    );
}

/// `len` bytes that do not repeat with the chunk size.
fn data(len: usize) -> Vec<u8> {
    let mut state: u32 = 0x1234_5678;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state.to_le_bytes()[0]
        })
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn object_put_get_round_trip_of_a_multi_chunk_file() {
    let bus = Bus::jetstream();
    let dir = TempDir::new().expect("a directory");
    assert_eq!(
        bus.run(&["object", "ls"]).success().stdout,
        "no buckets found\n"
    );
    let out = bus
        .run(&["object", "add", "files", "--description", "some files"])
        .success()
        .stdout;
    assert!(out.starts_with("created bucket \"files\"\n"), "{out}");
    assert_field(&out, "JetStream Stream", "OBJ_files");

    // 1 MiB and a bit: 9 chunks of 128 KiB, the last one short.
    let bytes = data((1 << 20) + 123);
    let digest = sha256_hex(&bytes);
    let file = dir.path().join("data.bin");
    std::fs::write(&file, &bytes).expect("write the file");
    let file = file.to_str().expect("a UTF-8 path");

    let put = bus.run(&["object", "put", "files", file]).success();
    assert_eq!(put.stderr, "", "no progress bar in a pipe: {put:#?}");
    assert!(
        put.stdout
            .starts_with("Object information for files > data.bin\n"),
        "{put:#?}"
    );
    assert_field(&put.stdout, "Size", "1.0 MiB");
    assert_field(&put.stdout, "Chunks", "9");
    assert_field(&put.stdout, "Digest", &format!("SHA-256 {digest}"));

    // Another name, smaller chunks, as JSON.
    let json = bus
        .run(&[
            "object",
            "put",
            "files",
            file,
            "--name",
            "copy",
            "--chunk-size",
            "64K",
            "--json",
        ])
        .success()
        .json();
    assert_eq!(json["name"], "copy");
    assert_eq!(json["chunks"], 17);
    assert_eq!(json["size"], bytes.len());
    let stored = format!(
        "SHA-256={}",
        base64::engine::general_purpose::URL_SAFE.encode(Sha256::digest(&bytes))
    );
    assert_eq!(json["digest"], stored.as_str());

    // Back to a file, and to stdout.
    let copy = dir.path().join("back.bin");
    let copy_path = copy.to_str().expect("a UTF-8 path");
    let got = bus.run(&["object", "get", "files", "data.bin", "-O", copy_path]);
    let got = got.success();
    assert!(
        got.stderr
            .starts_with(&format!("wrote 1.0 MiB to {copy_path} in ")),
        "{got:#?}"
    );
    assert_eq!(std::fs::read(&copy).expect("the copy"), bytes);
    assert!(!dir.path().join("back.bin.part").exists());
    let (status, out, err) = bus.run_bytes(&["object", "get", "files", "copy"]);
    assert!(status.success(), "{err}");
    assert_eq!(err, "", "no progress bar in a pipe");
    assert!(out == bytes, "stdout is the object, byte for byte");

    // An existing file is replaced only with --force.
    std::fs::write(&copy, "old").expect("write");
    assert_fails(
        &bus.run(&["object", "get", "files", "data.bin", "-O", copy_path]),
        &format!(
            "give --force to replace the file {copy_path}: standard input is not a terminal \
             to ask on"
        ),
    );
    assert_eq!(std::fs::read(&copy).expect("the copy"), b"old");
    bus.run(&["object", "get", "files", "data.bin", "-O", copy_path, "-f"])
        .success();
    assert_eq!(std::fs::read(&copy).expect("the copy"), bytes);

    let out = bus.run(&["object", "ls", "files"]).success().stdout;
    let rows = rows(&out);
    assert_eq!(rows[0], ["Name", "Size", "Modified", "SHA-256"], "{out}");
    assert_eq!(rows[1][..2], ["copy", "1.0 MiB"], "{out}");
    assert_eq!(rows[2][..2], ["data.bin", "1.0 MiB"], "{out}");
    assert_eq!(rows[2][3], digest, "{out}");
    let json = bus
        .run(&["object", "ls", "files", "--json"])
        .success()
        .json();
    let names: Vec<&str> = json
        .as_array()
        .expect("an array of object infos")
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert_eq!(names, ["copy", "data.bin"]);

    let out = bus.run(&["object", "ls"]).success().stdout;
    let rows = support::rows(&out);
    assert_eq!(
        rows[0],
        ["Bucket", "Description", "Created", "Size", "Last Update"],
        "{out}"
    );
    assert_eq!(rows[1][..2], ["files", "some files"], "{out}");
    assert_eq!(rows[1][3], "2.0 MiB", "{out}");
    let json = bus
        .run(&["object", "info", "files", "--json"])
        .success()
        .json();
    assert_eq!(json["bucket"], "files");
    assert_eq!(json["sealed"], false);

    // Replacing an object asks too.
    assert_fails(
        &bus.run(&["object", "put", "files", file]),
        "give --force to replace object \"data.bin\" in bucket \"files\": standard input is \
         not a terminal to ask on",
    );
    let missing_file = dir.path().join("nothere.bin");
    let missing_file = missing_file.to_str().expect("a UTF-8 path");
    let outcome = bus.run(&["object", "put", "files", missing_file]);
    assert_eq!(outcome.code(), Some(1), "{outcome:#?}");
    assert!(
        outcome
            .stderr
            .starts_with(&format!("nats-rs: cannot read {missing_file}: ")),
        "{outcome:#?}"
    );
    assert_fails(
        &bus.run(&["object", "put", "files"]),
        "--name: an object read from stdin needs a name",
    );
    // From stdin, with a name.
    let out = bus.run_with_input(
        &["object", "put", "files", "--name", "note.txt", "--json"],
        b"a note",
    );
    assert_eq!(out.success().json()["size"], 6);
    let (_, note, _) = bus.run_bytes(&["object", "get", "files", "note.txt"]);
    assert_eq!(note, b"a note");

    assert_fails(
        &bus.run(&["object", "rm", "files", "data.bin"]),
        "give --force to delete object \"data.bin\" in bucket \"files\": standard input is not \
         a terminal to ask on",
    );
    let out = bus
        .run(&["object", "rm", "files", "data.bin", "-f"])
        .success()
        .stdout;
    assert_eq!(out, "deleted object \"data.bin\" in bucket \"files\"\n");
    let missing = "object \"data.bin\" not found in bucket \"files\"";
    assert_fails(&bus.run(&["object", "get", "files", "data.bin"]), missing);
    assert_fails(&bus.run(&["object", "info", "files", "data.bin"]), missing);
    assert_fails(
        &bus.run(&["object", "rm", "files", "data.bin", "-f"]),
        missing,
    );

    let out = bus.run(&["object", "rm", "files", "-f"]).success().stdout;
    assert_eq!(out, "deleted bucket \"files\"\n");
    assert_eq!(
        bus.run(&["object", "ls"]).success().stdout,
        "no buckets found\n"
    );
    for args in [
        &["object", "ls", "files"][..],
        &["object", "get", "files", "copy"],
        &["object", "put", "files", file],
    ] {
        assert_fails(&bus.run(args), "bucket \"files\" not found");
    }
}

#[test]
fn jetstream_commands_on_a_server_without_jetstream_say_so() {
    let bus = Bus::with_services(&[]);
    let started = std::time::Instant::now();
    assert_fails(
        &bus.run(&["stream", "ls"]),
        "cannot list streams: jetstream not enabled",
    );
    let outcome = bus.run(&["kv", "get", "b", "k"]);
    assert_eq!(outcome.code(), Some(1), "{outcome:#?}");
    assert!(
        outcome.stderr.contains("jetstream not enabled"),
        "{outcome:#?}"
    );
    // No responders says so at once: nothing waits for the timeout.
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn the_jetstream_domain_of_a_context_is_used() {
    let bus = Bus::jetstream();
    bus.run(&["stream", "add", "S"]).success();
    let dir = bus.config.path().join("nats").join("context");
    std::fs::create_dir_all(&dir).expect("context directory");
    let context = |name: &str, domain: &str| {
        let text = serde_json::json!({ "url": bus.server.url(), "jetstream_domain": domain });
        std::fs::write(dir.join(format!("{name}.json")), text.to_string()).expect("write");
    };
    // No JetStream answers under `$JS.elsewhere.API`; the empty domain is the local one.
    context("elsewhere", "elsewhere");
    context("local", "");
    let run = |name: &str| {
        let mut command = support::nats_rs(bus.config.path());
        command.args(["--context", name, "stream", "ls", "--json"]);
        support::Running::start(command).finish()
    };
    assert_fails(
        &run("elsewhere"),
        "cannot list streams: jetstream not enabled",
    );
    let json = run("local").success().json();
    assert_eq!(json[0]["config"]["name"], "S", "{json:#}");
}

#[test]
fn kv_keys_and_watch() {
    let bus = Bus::jetstream();
    bus.run(&["kv", "add", "watched", "--history", "3"])
        .success();
    for (key, value) in [("b", "2"), ("a", "1"), ("c", "3")] {
        bus.run(&["kv", "put", "watched", key, value]).success();
    }
    bus.run(&["kv", "del", "watched", "c"]).success();
    // The keys with a value, sorted.
    let out = bus.run(&["kv", "ls", "watched"]).success().stdout;
    assert_eq!(out.lines().collect::<Vec<_>>(), ["a", "b"]);
    let json = bus.run(&["kv", "ls", "watched", "--json"]).success().json();
    assert_eq!(json, serde_json::json!(["a", "b"]));
    // The latest entries of every key (the delete included), in revision order, then the
    // end of the initial values on stderr.
    let watched = bus
        .run(&["kv", "watch", "watched", "--count", "3"])
        .success();
    let lines: Vec<&str> = watched.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", watched.stdout);
    assert!(lines[0].ends_with("PUT watched > b: 2"), "{}", lines[0]);
    assert!(lines[1].ends_with("PUT watched > a: 1"), "{}", lines[1]);
    assert!(lines[2].ends_with("DEL watched > c: "), "{}", lines[2]);
    let json = bus
        .run(&["kv", "watch", "watched", "a", "--count", "1", "--json"])
        .success()
        .json();
    assert_eq!(
        (json["key"].as_str(), json["value"].as_str()),
        (Some("a"), Some("1"))
    );
    assert_fails(
        &bus.run(&["kv", "watch", "nothere", "--count", "1"]),
        "bucket \"nothere\" not found",
    );
}
