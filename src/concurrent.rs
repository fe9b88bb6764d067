//! Running independent network work at once and getting the results back in order.

use std::future::Future;

use tokio::task::JoinSet;

/// Runs every future as its own task and returns their outputs in the order given (not the
/// order they finish). A task that panics propagates the panic, as `JoinSet::join_all` does.
pub async fn in_order<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let mut tasks = JoinSet::new();
    for (index, future) in futures.into_iter().enumerate() {
        tasks.spawn(async move { (index, future.await) });
    }
    let mut done: Vec<(usize, F::Output)> = tasks.join_all().await;
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
