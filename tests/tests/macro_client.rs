//! The typed client `#[service]` generates (`UserServiceClient`) round-trips every endpoint of
//! the user service, and its error replies come back as `CallError::Service` with the
//! service's codes. It runs against both versions of the service: the client only knows the
//! wire, which they share.

mod micro_support;

use std::fmt::Debug;

use examples::users::{
    manual_service, ImportReport, NewUser, User, UserId, UserService, UserServiceClient, UserStore,
    UserUpdate, INVALID_INPUT, USER_NOT_FOUND,
};
use micro_support::{connect, discovery, within};
use nats_core::Client;
use nats_micro::{CallError, Service, ServiceError};
use nats_tests::NatsServer;
use serde_json::json;

/// The service error `result` must be.
fn service_error<T: Debug>(what: &str, result: Result<T, CallError>) -> ServiceError {
    match result {
        Err(CallError::Service(error)) => error,
        other => panic!("{what}: expected a service error, got {other:?}"),
    }
}

fn ann() -> NewUser {
    NewUser::new("Ann", "ann@example.com")
}

async fn round_trip(service: &Service, client: &Client) {
    let users = UserServiceClient::new(client);

    let created: User = within("create", users.create(&ann()))
        .await
        .expect("create");
    assert_eq!(
        created,
        User {
            id: 1,
            name: "Ann".into(),
            email: "ann@example.com".into()
        }
    );
    let id = UserId { id: 1 };
    assert_eq!(within("get", users.get(&id)).await.expect("get"), created);

    let rename = UserUpdate {
        id: 1,
        name: Some("Ann Lee".into()),
        email: None,
    };
    let renamed = within("update", users.update(&rename))
        .await
        .expect("update");
    assert_eq!(
        (renamed.name.as_str(), renamed.email.as_str()),
        ("Ann Lee", "ann@example.com")
    );
    let move_mail = UserUpdate {
        id: 1,
        name: None,
        email: Some("ann@lee.example".into()),
    };
    let moved = within("update", users.update(&move_mail))
        .await
        .expect("update");
    assert_eq!(
        (moved.name.as_str(), moved.email.as_str()),
        ("Ann Lee", "ann@lee.example")
    );
    assert_eq!(within("get", users.get(&id)).await.expect("get"), moved);

    // USER_NOT_FOUND for every endpoint that names a user.
    let nobody = UserId { id: 99 };
    let errors = [
        service_error("get", within("get", users.get(&nobody)).await),
        service_error("delete", within("delete", users.delete(&nobody)).await),
        service_error(
            "update",
            within(
                "update",
                users.update(&UserUpdate {
                    id: 99,
                    name: Some("X".into()),
                    email: None,
                }),
            )
            .await,
        ),
    ];
    for error in errors {
        assert_eq!(
            error,
            ServiceError::new(USER_NOT_FOUND, "no user with id 99")
        );
    }

    // INVALID_INPUT, the description saying what is wrong.
    let bad_email = NewUser::new("Bob", "bob.example.com");
    let error = service_error("create", within("create", users.create(&bad_email)).await);
    assert_eq!(
        error,
        ServiceError::new(
            INVALID_INPUT,
            r#"email "bob.example.com" is not a valid address"#
        )
    );
    let nothing = UserUpdate {
        id: 1,
        ..UserUpdate::default()
    };
    let error = service_error("update", within("update", users.update(&nothing)).await);
    assert_eq!(
        error,
        ServiceError::new(INVALID_INPUT, "nothing to update: give a name or an email")
    );
    // A body the typed client would never send: the decoding error is INVALID_INPUT too.
    let raw = nats_micro::request(client, "users.create", r#"{"name":"Bob"}"#);
    let error = service_error("raw create", within("raw create", raw).await);
    assert_eq!(error.code, INVALID_INPUT);
    assert!(
        error.description.contains("missing field `email`"),
        "{error}"
    );

    // Bulk import: all or nothing.
    let batch = vec![
        NewUser::new("Cy", "cy@example.com"),
        NewUser::new("Di", "di@example.com"),
        NewUser::new("Ed", "ed@example.com"),
    ];
    let report: ImportReport = within("import", users.bulk_import(&batch))
        .await
        .expect("import");
    assert_eq!(
        report,
        ImportReport {
            imported: 3,
            ids: vec![2, 3, 4]
        }
    );
    let half_bad = vec![
        NewUser::new("Fay", "fay@example.com"),
        NewUser::new("", "g@example.com"),
    ];
    let error = service_error(
        "import",
        within("import", users.bulk_import(&half_bad)).await,
    );
    assert_eq!(
        error,
        ServiceError::new(INVALID_INPUT, "users[1]: name must not be empty")
    );
    let error = service_error(
        "import",
        within("import", users.bulk_import(&Vec::new())).await,
    );
    assert_eq!(error.code, INVALID_INPUT);
    let not_imported = UserId { id: 5 };
    let error = service_error("get", within("get", users.get(&not_imported)).await);
    assert_eq!(error.code, USER_NOT_FOUND, "a failed import adds nobody");

    // Delete answers with the deleted user; it is gone afterwards.
    assert_eq!(
        within("delete", users.delete(&id)).await.expect("delete"),
        moved
    );
    let error = service_error("get", within("get", users.get(&id)).await);
    assert_eq!(error.code, USER_NOT_FOUND);

    // The stats handler sees the store: Cy, Di and Ed are left.
    let stats = within(
        "stats",
        discovery(client).stats_instance("user-service", service.id()),
    )
    .await
    .expect("stats request")
    .expect("this instance answers");
    let errors: Vec<(&str, u64, u64)> = stats
        .endpoints
        .iter()
        .map(|e| {
            assert_eq!(e.data, Some(json!({"users": 3})), "{}", e.name);
            (e.name.as_str(), e.num_requests, e.num_errors)
        })
        .collect();
    assert_eq!(
        errors,
        [
            ("create", 3, 2),
            ("get", 5, 3),
            ("update", 4, 2),
            ("delete", 2, 1),
            ("import", 3, 2),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_client_round_trips_the_macro_service() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = within("start", UserService::new(UserStore::new()).start(&client))
        .await
        .expect("start");
    round_trip(&service, &client).await;
    within("stop", service.stop()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_client_round_trips_the_manual_service() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = within("start", manual_service::start(&client, UserStore::new()))
        .await
        .expect("start");
    round_trip(&service, &client).await;
    within("stop", service.stop()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_client_surfaces_no_responders() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let users = UserServiceClient::new(&client);
    match within("get", users.get(&UserId { id: 1 })).await {
        Err(CallError::Request(error)) => {
            assert_eq!(error.kind(), nats_core::RequestErrorKind::NoResponders)
        }
        other => panic!("expected no responders, got {other:?}"),
    }
}
