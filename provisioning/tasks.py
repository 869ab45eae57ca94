"""Celery tasks of provisioning: thin wrappers around provisioning.execution and services."""

from celery import shared_task

from provisioning import execution, services


# acks_late + reject_on_worker_lost: a worker killed mid-run leaves the message unacknowledged, so the
# broker redelivers it and the run resumes from its first unfinished step (the tenant lock makes a
# duplicate delivery harmless).
@shared_task(name="provisioning.execute_run", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def execute_run(run_id: int) -> str:
    return execution.execute_run(run_id)


@shared_task(name="provisioning.resume_stalled_runs", ignore_result=True)
def resume_stalled_runs() -> int:
    return len(services.resume_stalled_runs())
