"""Build the configured classifiers, and run them all on one piece of media.

Building happens once, at start-up: a bad classifier setting stops the service with a message
naming the classifier. Classifying happens per upload: a failing classifier is reported next
to the others' results and never stops them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from vigil.core.errors import ConfigurationError
from vigil.core.plugins import build_each
from vigil.core.settings import ClassifierConfig
from vigil.screening.classifiers.base import Classifier, ClassifierError, ClassifierResult
from vigil.screening.classifiers.http import HttpClassifier
from vigil.screening.classifiers.onnx import OnnxClassifier

log = logging.getLogger(__name__)


def build_classifiers(configs: Sequence[ClassifierConfig]) -> list[Classifier]:
    """One classifier per config, in order; ConfigurationError names the one that is wrong."""
    return build_each(configs, build_classifier, section="classifiers", refusal=ClassifierError)


def build_classifier(config: ClassifierConfig) -> Classifier:
    if config.kind == "http":
        if not config.url:
            raise ConfigurationError(f"classifiers: {config.name!r} (http) needs a url")
        token = config.token.get_secret_value() if config.token else None
        return HttpClassifier(
            config.name,
            config.url,
            threshold=config.threshold,
            token=token,
            timeout=config.timeout,
            retries=config.retries,
        )
    if config.kind == "onnx":
        if config.model_path is None:
            raise ConfigurationError(f"classifiers: {config.name!r} (onnx) needs a model_path")
        return OnnxClassifier(config.name, config.model_path, threshold=config.threshold)
    raise ConfigurationError(f"classifiers: {config.name!r} has unknown kind {config.kind!r}")


def classify_all(
    classifiers: Sequence[Classifier], media: bytes, media_type: str
) -> tuple[list[ClassifierResult], list[dict[str, Any]]]:
    """Every classifier's result, in configured order, and an error entry for each that failed.

    Classifiers run side by side, so a slow remote service delays the answer by its own
    timeout, not by the sum of all of them."""
    if not classifiers:
        return [], []
    with ThreadPoolExecutor(
        max_workers=len(classifiers), thread_name_prefix="vigil-classifier"
    ) as pool:
        futures = [
            pool.submit(_classify_one, classifier, media, media_type) for classifier in classifiers
        ]
        outcomes = [future.result() for future in futures]
    results = [outcome for outcome in outcomes if isinstance(outcome, ClassifierResult)]
    errors = [outcome for outcome in outcomes if isinstance(outcome, dict)]
    return results, errors


def _classify_one(
    classifier: Classifier, media: bytes, media_type: str
) -> ClassifierResult | dict[str, Any]:
    try:
        result = classifier.classify(media, media_type)
    except ClassifierError as exc:
        log.warning("classifier %r failed: %s", classifier.name, exc)
        return {"name": classifier.name, "error": str(exc)}
    except Exception as exc:  # a plug-in's bug must not cost the other classifiers' scores
        # Only the type: an unexpected exception's text may quote what it was handling.
        log.error("classifier %r crashed with %s", classifier.name, type(exc).__name__)
        return {"name": classifier.name, "error": f"internal error ({type(exc).__name__})"}
    if not isinstance(result, ClassifierResult):
        return {"name": classifier.name, "error": "not a classifier result"}
    return result
