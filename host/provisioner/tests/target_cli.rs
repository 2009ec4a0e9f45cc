//! `provisioner target put / history / rollback / delete` as an operator runs them: a real
//! process on a real SQLite database and compilation cache, with a component built from source.

use std::path::Path;
use std::process::Output;

fn provisioner(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_provisioner"))
        .args(args)
        .output()
        .expect("the provisioner binary runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn write_spec(dir: &Path, name: &str, body: serde_json::Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, body.to_string()).unwrap();
    path.display().to_string()
}

#[test]
fn put_refuses_a_typo_naming_it_then_puts_rolls_back_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("p.db").display());
    let cache = dir.path().join("cache").display().to_string();
    // The component sits next to the spec and is named relative to it.
    std::fs::copy(test_components::GUEST_ECHO, dir.path().join("echo.wasm")).unwrap();
    let spec = |endpoint_key: &str| {
        serde_json::json!({
            "tenant": "acme", "name": "crm", "connector": "echo.wasm",
            "properties": { endpoint_key: "http://127.0.0.1:9/api" },
            "egress": { "allow_loopback": true }
        })
    };
    let store = ["--db", db.as_str(), "--cache-dir", cache.as_str()];

    let typo = write_spec(dir.path(), "typo.json", spec("endpont"));
    let out = provisioner(&[&["target", "put"], &store[..], &[typo.as_str()]].concat());
    let said = text(&out);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("`endpont`: not a property"), "{said}");
    assert!(said.contains("its properties are: endpoint"), "{said}");
    assert!(said.contains("`endpoint`: required"), "{said}");
    assert!(said.contains("nothing changed"), "{said}");
    let out = provisioner(&["target", "list", "--db", &db]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).trim().is_empty(),
        "no target was written: {}",
        text(&out)
    );

    let good = write_spec(dir.path(), "good.json", spec("endpoint"));
    let out = provisioner(&[&["target", "put"], &store[..], &[good.as_str()]].concat());
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("compiling ahead"),
        "a line before compiling: {said}"
    );
    assert!(
        said.contains(" s: echo 0.1.0"),
        "a line after, with the time: {said}"
    );
    assert!(said.contains("revision 1, connector sha256:"), "{said}");
    assert!(said.contains("public and loopback addresses"), "{said}");

    // The second put finds the compiled code in the cache.
    let mut second = spec("endpoint");
    second["properties"]["endpoint"] = "http://127.0.0.1:9/v2".into();
    let second = write_spec(dir.path(), "second.json", second);
    let out = provisioner(&[&["target", "put"], &store[..], &[second.as_str()]].concat());
    assert!(
        text(&out).contains("loaded from the compilation cache"),
        "{}",
        text(&out)
    );

    let out = provisioner(
        &[
            &["target", "history"],
            &store[..2],
            &["--tenant", "acme", "crm"],
        ]
        .concat(),
    );
    let said = text(&out);
    assert!(
        said.contains("revision    2") && said.contains("revision    1"),
        "{said}"
    );

    let out = provisioner(
        &[
            &["target", "rollback"],
            &store[..2],
            &["--tenant", "acme", "crm"],
        ]
        .concat(),
    );
    let said = text(&out);
    assert!(
        out.status.success() && said.contains("now revision 3"),
        "{said}"
    );
    let out = provisioner(&["target", "list", "--db", &db, "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        listed[0]["spec"]["properties"]["endpoint"], "http://127.0.0.1:9/api",
        "rolled back to the first revision's configuration"
    );

    let out = provisioner(
        &[
            &["target", "delete"],
            &store[..2],
            &["--tenant", "acme", "crm"],
        ]
        .concat(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = provisioner(&["target", "list", "--db", &db]);
    assert!(text(&out).trim().is_empty(), "{}", text(&out));
}
