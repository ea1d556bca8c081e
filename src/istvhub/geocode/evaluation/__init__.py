"""Evaluation of the geocoder on texts it was not tuned on: noise families written in different
styles (``noise``), the police.uk labels recast as ED text (``police``), the narrative-robustness
set drawn from common English words (``narrative``) and the scores (``metrics``). Used by
``benchmarks/geocode_eval.py`` and by the calibration tests; never imported by the geocoder."""
