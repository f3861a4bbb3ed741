"""One rank of a test job: ``torchrun --nproc-per-node 2 tests/dist_job.py OUT_FOLDER TEXT_FILE [settings as JSON]``.

Trains with ``fastw2v.train`` as a user's script would and writes ``OUT_FOLDER/rank-R.json``: the stats, a hash
of the vectors, how many times this rank saved vectors, and the ids of the input rows it received at each hand-over
(``buckets.RingSync``). ``"other_text"`` in the settings gives rank 1 another text file (to check that ranks refuse
different corpora)."""

import hashlib
import json
import os
import sys

import fastw2v
from fastw2v.buckets import RingSync
from fastw2v.vectors import Vectors

out, text = sys.argv[1], sys.argv[2]
settings = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
rank = int(os.environ["RANK"])
other = settings.pop("other_text", None)
if other is not None and rank == 1:
    text = other

saves, received = [], []
_save, _set_rows = Vectors.save, RingSync._set_rows


def counting_save(self, path):
    saves.append(path)
    return _save(self, path)


def recording_set_rows(self, m, ids, rows):
    if m is self.w_in:
        received.append(sorted(ids.tolist()))
    return _set_rows(self, m, ids, rows)


Vectors.save = counting_save
RingSync._set_rows = recording_set_rows
try:
    vectors = fastw2v.train(
        data=text,
        output=os.path.join(out, "vectors.bin"),
        cache_dir=os.path.join(out, "cache"),
        progress=False,
        **settings,
    )
except fastw2v.UserError as e:
    with open(os.path.join(out, f"rank-{rank}.json"), "w") as f:
        json.dump(dict(error=str(e.args[0])), f)
    sys.exit(2)
st = vectors.stats
with open(os.path.join(out, f"rank-{rank}.json"), "w") as f:
    json.dump(
        dict(
            rank=st.rank,
            world=st.world_size,
            examples=st.examples,
            tokens=st.tokens,
            saves=len(saves),
            sync_bytes=st.sync_bytes,
            sync_seconds=st.sync_seconds,
            received=received,
            vectors=hashlib.sha1(vectors.vectors.tobytes()).hexdigest(),
        ),
        f,
    )
