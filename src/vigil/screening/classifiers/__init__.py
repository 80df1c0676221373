"""Classifier plug-ins: a score and labels for a piece of media, from a remote service (HTTP)
or a local model file (ONNX Runtime). A score only ever sends content to review."""

from vigil.screening.classifiers.base import Classifier, ClassifierError, ClassifierResult

__all__ = ["Classifier", "ClassifierError", "ClassifierResult"]
