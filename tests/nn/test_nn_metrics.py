"""predict, accuracy and confusion_matrix on models whose outputs are known."""

import pytest

from nn import MLP, accuracy, confusion_matrix, predict
from nn.metrics import outputs

# out = x: three classes, the prediction is the index of the largest input
IDENTITY_3 = MLP.from_weights(
    [[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]], [[0.0, 0.0, 0.0]], activation="linear"
)
X = [[3.0, 1.0, 0.0], [0.0, 2.0, 1.0], [0.0, 0.5, 4.0], [1.0, 0.0, 0.0], [0.0, 0.0, 2.0]]
TRUE = [0, 1, 2, 1, 0]  # the last two are predicted 0 and 2


def test_outputs_are_floats_per_sample():
    assert outputs(IDENTITY_3, X[:2]) == [[3.0, 1.0, 0.0], [0.0, 2.0, 1.0]]
    one = MLP.from_weights([[[2.0]]], [[0.5]], activation="linear")
    assert outputs(one, [[1.0], [-1.0]]) == [2.5, -1.5]


def test_predict_is_the_argmax_or_the_threshold():
    assert predict(IDENTITY_3, X) == [0, 1, 2, 0, 2]
    one = MLP.from_weights([[[1.0]]], [[0.0]], activation="linear")
    assert predict(one, [[0.2], [-0.2], [0.0]]) == [1, 0, 0]
    assert predict(one, [[0.2]], threshold=0.5) == [0]


def test_confusion_matrix_counts_true_rows_against_predicted_columns():
    assert confusion_matrix(IDENTITY_3, X, TRUE) == [
        [1, 0, 1],  # true 0: one right, one taken for a 2
        [1, 1, 0],  # true 1: one taken for a 0, one right
        [0, 0, 1],
    ]
    matrix = confusion_matrix(IDENTITY_3, X, TRUE, classes=4)
    assert len(matrix) == 4 and matrix[3] == [0, 0, 0, 0]
    diagonal = sum(matrix[k][k] for k in range(4))
    assert diagonal / len(X) == accuracy(IDENTITY_3, X, TRUE) == pytest.approx(3 / 5)


def test_confusion_matrix_refuses_bad_labels_and_too_few_classes():
    with pytest.raises(ValueError, match="class indices >= 0, got -1"):
        confusion_matrix(IDENTITY_3, X[:1], [-1])
    with pytest.raises(ValueError, match="not below classes=2"):
        confusion_matrix(IDENTITY_3, X, TRUE, classes=2)


def test_too_few_classes_names_the_label_or_prediction_that_does_not_fit():
    # sample 2 is true 2 and predicted 2: with classes=2 the message names which and where
    message = r"confusion_matrix: true label 2 of sample 2 is not below classes=2"
    with pytest.raises(ValueError, match=message):
        confusion_matrix(IDENTITY_3, X, TRUE, classes=2)
    # true labels all fit; sample 4 (true 0) is predicted 2
    message = r"confusion_matrix: prediction 2 of sample 2 is not below classes=2"
    with pytest.raises(ValueError, match=message):
        confusion_matrix(IDENTITY_3, X, [0, 1, 1, 1, 0], classes=2)
