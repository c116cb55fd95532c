import os

from django_celery_results.models import TaskResult

from omni.tasks import heartbeat


def test_heartbeat_runs_in_a_real_worker_and_its_result_lands_in_the_database(
    live_celery_worker,
):
    result = heartbeat.delay()

    payload = result.get(timeout=60)

    assert payload["pid"] == live_celery_worker.pid
    assert payload["pid"] != os.getpid()
    stored = TaskResult.objects.get(task_id=result.id)
    assert stored.status == "SUCCESS"
    assert stored.task_name == "omni.tasks.heartbeat"
