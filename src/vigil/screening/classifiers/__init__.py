"""Classifier plug-ins: a score and labels for a piece of media, from a remote service (HTTP)
or a local model file (ONNX Runtime). A score only ever sends content to review."""

from vigil.screening.classifiers.base import Classifier, ClassifierError, ClassifierResult
from vigil.screening.classifiers.factory import build_classifier, build_classifiers, classify_all
from vigil.screening.classifiers.http import HttpClassifier
from vigil.screening.classifiers.onnx import OnnxClassifier

__all__ = [
    "Classifier",
    "ClassifierError",
    "ClassifierResult",
    "HttpClassifier",
    "OnnxClassifier",
    "build_classifier",
    "build_classifiers",
    "classify_all",
]
