"""The process limit's cgroups (autograder/pidlimit.py), on a plain folder standing in for the cgroup root."""

import os
import time

from autograder import pidlimit


def test_a_cgroup_removed_before_it_is_entered_is_made_again(tmp_path, monkeypatch):
    """Two sandboxes start at once: the other's sweep removes this one's new, still empty cgroup."""
    monkeypatch.setattr(pidlimit, "pids_root", lambda: str(tmp_path))
    made = []
    real_mkdtemp = pidlimit.tempfile.mkdtemp

    def mkdtemp_then_swept(**kwargs):
        folder = real_mkdtemp(**kwargs)
        made.append(folder)
        if len(made) == 1:
            os.rmdir(folder)  # the other sandbox's sweep, between this one's mkdir and its entering
        return folder

    monkeypatch.setattr(pidlimit.tempfile, "mkdtemp", mkdtemp_then_swept)
    folder = pidlimit.enter(64)
    assert len(made) == 2 and folder == made[1]
    assert open(os.path.join(folder, "pids.max")).read() == "64"
    assert open(os.path.join(folder, "cgroup.procs")).read() == str(os.getpid())


def test_a_sweep_removes_only_old_empty_cgroups_of_ours(tmp_path):
    old, young, busy, other = (tmp_path / name for name in ("ccdlab-old", "ccdlab-young", "ccdlab-busy", "user.slice"))
    for folder in (old, young, busy, other):
        folder.mkdir()
    (busy / "cgroup.procs").write_text("1")  # a plain folder with a file refuses rmdir, like a busy cgroup
    hour_ago = time.time() - 3600
    for folder in (old, busy, other):
        os.utime(folder, (hour_ago, hour_ago))
    pidlimit.sweep(str(tmp_path))
    assert not old.exists() and young.exists() and busy.exists() and other.exists()
