//! Running independent network work at once and getting the results back in order.

use std::future::Future;

use tokio::task::JoinSet;

/// Runs every future as its own task and returns their outputs in the order given (not the
/// order they finish). A task that panics propagates the panic, as `JoinSet::join_all` does.
/// A task cancelled by the runtime shutting down (nothing here aborts one) leaves this future
/// waiting until the shutdown drops it too, rather than panicking in its last moments.
pub async fn in_order<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let mut tasks = JoinSet::new();
    for (index, future) in futures.into_iter().enumerate() {
        tasks.spawn(async move { (index, future.await) });
    }
    let mut done: Vec<(usize, F::Output)> = Vec::with_capacity(tasks.len());
    while let Some(result) = tasks.join_next().await {
        match result {
            Ok(output) => done.push(output),
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => std::future::pending::<()>().await,
        }
    }
    done.sort_by_key(|(index, _)| *index);
    done.into_iter().map(|(_, output)| output).collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[tokio::test]
    async fn results_come_back_in_the_order_given() {
        let delays = [30u64, 0, 15];
        let out = super::in_order(delays.map(|ms| async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            ms
        }))
        .await;
        assert_eq!(out, vec![30, 0, 15]);
    }
}
