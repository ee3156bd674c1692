//! Moving an object's bytes: `object put` from a file or stdin and `object get` to a file or
//! stdout, in chunks, with a progress bar on stderr when it is a terminal, and with the
//! read and the write side's failures told apart.

use std::path::{Path, PathBuf};
use std::time::Instant;

use nats_core::object_store::{
    ObjectInfo, ObjectMeta, ObjectStore, ObjectStoreError, ObjectStoreErrorKind,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::object_error;
use crate::confirm::confirm;
use crate::error::CliError;
use crate::{duration, progress, size};

/// The last component of `path`, the default name of the object put from it.
pub(super) fn file_name(path: &Path) -> Result<String, CliError> {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .ok_or_else(|| {
            CliError::Setting(format!(
                "{} has no file name: give the object one with --name",
                path.display()
            ))
        })
}

/// Puts the file at `path` (stdin when `None`) as `meta` says, with a progress bar; asks
/// before replacing an object of that name. `None` when the answer was no.
pub(super) async fn put(
    store: &ObjectStore,
    meta: ObjectMeta,
    path: Option<&Path>,
    force: bool,
) -> Result<Option<ObjectInfo>, CliError> {
    let bucket = store.bucket().to_owned();
    let name = meta.name.clone();
    // The file first: a missing one is said before anything is asked.
    let file = match path {
        Some(path) => {
            let read_error = |source| CliError::File {
                action: "read",
                path: path.display().to_string(),
                source,
            };
            let file = tokio::fs::File::open(path).await.map_err(read_error)?;
            let size = file.metadata().await.map_err(read_error)?.len();
            Some((file, size))
        }
        None => None,
    };
    match store.info(&name).await {
        Ok(_) => {
            let what = format!("replace object {name:?} in bucket {bucket:?}");
            if !confirm(&what, force).await? {
                return Ok(None);
            }
        }
        Err(error) if error.kind() == ObjectStoreErrorKind::NotFound => {}
        Err(error) => return Err(object_error(&bucket, Some(&name), "read")(error)),
    }
    let result = match file {
        Some((file, size)) => {
            let bar = progress::bar(size, &format!("put {name}"));
            let mut reader = bar.wrap_async_read(file);
            let result = store.put(meta, &mut reader).await;
            bar.finish_and_clear();
            result
        }
        None => store.put(meta, &mut tokio::io::stdin()).await,
    };
    result
        .map(Some)
        .map_err(object_error(&bucket, Some(&name), "put"))
}

/// Writes the object `name` to `output` (stdout when `None`), with a progress bar; asks
/// before replacing a file. A file is written beside the target first and renamed once the
/// object's digest checked, so a failed get leaves no half file behind.
pub(super) async fn get(
    store: &ObjectStore,
    name: &str,
    output: Option<&Path>,
    force: bool,
) -> Result<(), CliError> {
    let bucket = store.bucket().to_owned();
    if let Some(path) = output.filter(|path| path.exists()) {
        let what = format!("replace the file {}", path.display());
        if !confirm(&what, force).await? {
            return Ok(());
        }
    }
    let reader = store
        .get(name)
        .await
        .map_err(object_error(&bucket, Some(name), "get"))?;
    let size = reader.info().size;
    let bar = progress::bar(size, &format!("get {name}"));
    let mut reader = bar.wrap_async_read(reader);
    let started = Instant::now();
    let fail = |error| copy_error(&bucket, name, output, error);
    match output {
        None => {
            let mut stdout = tokio::io::stdout();
            let copied = copy(&mut reader, &mut stdout).await;
            bar.finish_and_clear();
            copied.map_err(fail)?;
        }
        Some(path) => {
            let mut partial = path.as_os_str().to_owned();
            partial.push(".part");
            let partial = PathBuf::from(partial);
            let written = async {
                let mut file = tokio::fs::File::create(&partial)
                    .await
                    .map_err(Copy::Write)?;
                copy(&mut reader, &mut file).await?;
                file.sync_all().await.map_err(Copy::Write)?;
                tokio::fs::rename(&partial, path).await.map_err(Copy::Write)
            }
            .await;
            bar.finish_and_clear();
            if let Err(error) = written {
                let _ = tokio::fs::remove_file(&partial).await;
                return Err(fail(error));
            }
            eprintln!(
                "wrote {} to {} in {}",
                size::human(size),
                path.display(),
                duration::human(started.elapsed())
            );
        }
    }
    Ok(())
}

/// Which side of a copy failed.
enum Copy {
    /// Reading the object: the source is an [`ObjectStoreError`] inside the `io::Error`.
    Read(std::io::Error),
    /// Writing the output.
    Write(std::io::Error),
}

/// Copies `reader` into `writer` and flushes it.
async fn copy<R, W>(reader: &mut R, writer: &mut W) -> Result<(), Copy>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buffer = vec![0; 64 * 1024];
    loop {
        let n = reader.read(&mut buffer).await.map_err(Copy::Read)?;
        if n == 0 {
            break;
        }
        writer.write_all(&buffer[..n]).await.map_err(Copy::Write)?;
    }
    writer.flush().await.map_err(Copy::Write)
}

/// The error of a failed copy of the object `name` to `output`.
fn copy_error(bucket: &str, name: &str, output: Option<&Path>, error: Copy) -> CliError {
    match error {
        Copy::Read(error) => {
            let read_error = |source| CliError::File {
                action: "read",
                path: format!("object {name:?} in bucket {bucket:?}"),
                source,
            };
            let kind = error.kind();
            // The object's reader fails with its own errors inside the `io::Error`.
            match error
                .into_inner()
                .map(|inner| inner.downcast::<ObjectStoreError>())
            {
                Some(Ok(source)) => object_error(bucket, Some(name), "get")(*source),
                Some(Err(inner)) => read_error(std::io::Error::new(kind, inner)),
                None => read_error(kind.into()),
            }
        }
        Copy::Write(source) if source.kind() == std::io::ErrorKind::BrokenPipe => {
            CliError::Output(source)
        }
        Copy::Write(source) => CliError::File {
            action: "write",
            path: output.map_or_else(|| "standard output".to_owned(), |p| p.display().to_string()),
            source,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_is_named_after_its_file() {
        assert_eq!(
            file_name(Path::new("/tmp/dir/photo.jpg")).expect("a name"),
            "photo.jpg"
        );
        assert!(file_name(Path::new("/")).is_err());
    }
}
