from __future__ import annotations

import numpy as np
import pytest
import torch

from hemseg.models import Classifier, field_prior, prior_weights, specimen_mix, zoomed


class _Fixed(torch.nn.Module):
    """Logits that depend on the mean of the mask channel only."""

    def forward(self, x):
        m = x[:, 3].mean(dim=(1, 2))
        return torch.stack([m * 10, torch.zeros_like(m), -m * 10], dim=1)


def test_probabilities_follow_the_network_in_batches_and_sum_to_one():
    patches = np.zeros((5, 8, 8, 4), np.uint8)
    patches[:2, ..., 3] = 255
    classifier = Classifier(_Fixed(), classes=("a", "b", "c"), batch_size=2)
    p = classifier.probabilities(patches)
    assert p.shape == (5, 3) and np.allclose(p.sum(axis=1), 1.0, atol=1e-6)
    assert p[:2].argmax(axis=1).tolist() == [0, 0]
    assert np.allclose(p[2:], 1 / 3)
    assert classifier.last_network_ms > 0
    assert classifier.probabilities(np.zeros((0, 8, 8, 4), np.uint8)).shape == (0, 3)


def test_wrong_patch_shape_is_rejected():
    with pytest.raises(ValueError, match="patches"):
        Classifier(_Fixed(), classes=("a", "b", "c")).probabilities(np.zeros((8, 8, 4), np.uint8))


class _Corner(torch.nn.Module):
    """Logits from two corners of the mask channel (not rotation invariant): a = top left, b = top right."""

    def forward(self, x):
        m = x[:, 3]
        return torch.stack([m[:, 0, 0] * 10, m[:, 0, -1] * 10, torch.zeros_like(m[:, 0, 0])], dim=1)


def test_dihedral_averaging_makes_the_probabilities_orientation_free():
    patches = np.zeros((3, 8, 8, 4), np.uint8)
    patches[0, 0, 0, 3] = patches[1, 0, 7, 3] = patches[2, 7, 7, 3] = 255  # one patch, three orientations
    plain = Classifier(_Corner(), classes=("a", "b", "c")).probabilities(patches)
    assert plain.argmax(axis=1).tolist() == [0, 1, 0] and np.allclose(plain[2], 1 / 3)
    averaged = Classifier(_Corner(), classes=("a", "b", "c"), batch_size=2, dihedral=True).probabilities(patches)
    # of the 8 views, the lit corner is top left in 2, top right in 2, a bottom corner in 4
    e = np.exp(10.0)
    expected = (2 * np.array([e + 1, e + 1, 2]) / (e + 2) + 4 / 3) / 8
    assert np.allclose(averaged, expected, atol=1e-6)


def test_a_class_with_a_least_probability_is_called_only_when_it_reaches_it():
    probabilities = np.array(
        [
            [0.45, 0.35, 0.20],  # "a" most probable but below 0.5: the next class is called
            [0.50, 0.30, 0.20],  # exactly 0.5: called
            [0.30, 0.60, 0.10],  # another class is more probable anyway
            [0.40, 0.20, 0.40],  # "a" ties "c": argmax takes "a", the guard "c"
        ],
        np.float32,
    )
    plain = Classifier(_Fixed(), classes=("a", "b", "c"))
    assert plain.decide(probabilities).tolist() == [0, 0, 1, 0]
    guarded = Classifier(_Fixed(), classes=("a", "b", "c"), least_probability={"a": 0.5})
    assert guarded.decide(probabilities).tolist() == [1, 0, 1, 2]
    assert guarded.decide(probabilities[0]).tolist() == [1]
    with pytest.raises(ValueError, match="blast"):
        Classifier(_Fixed(), classes=("a", "b", "c"), least_probability={"blast": 0.5})


def test_class_weights_bring_back_the_classes_frequencies():
    patches = np.zeros((2, 8, 8, 4), np.uint8)
    patches[0, ..., 3] = 255  # logits (10, 0, -10); the second patch: all equal
    weights = prior_weights({"a": 1, "b": 6, "c": 3}, strength=1.0)
    assert weights == pytest.approx({"a": 0.1, "b": 0.6, "c": 0.3})
    assert prior_weights({"a": 1, "b": 6, "c": 3}, strength=0.5)["b"] == pytest.approx(0.6**0.5)
    assert set(prior_weights({"a": 1, "b": 6}, strength=0.0).values()) == {1.0}
    p = Classifier(_Fixed(), classes=("a", "b", "c"), class_weights=weights).probabilities(patches)
    e = np.exp(10.0)
    first = np.array([0.1 * e, 0.6, 0.3 / e])
    assert np.allclose(p, [first / first.sum(), [0.1, 0.6, 0.3]], atol=1e-6)  # equal logits: the prior itself
    only_b = Classifier(_Fixed(), classes=("a", "b", "c"), class_weights={"b": 2.0}).probabilities(patches[1:])
    assert np.allclose(only_b, [[0.25, 0.5, 0.25]], atol=1e-6)  # classes not named keep 1
    with pytest.raises(ValueError, match="blast"):
        Classifier(_Fixed(), classes=("a", "b", "c"), class_weights={"blast": 2.0})
    with pytest.raises(ValueError, match="positive"):
        Classifier(_Fixed(), classes=("a", "b", "c"), class_weights={"a": 0.0})
    with pytest.raises(ValueError, match="positive"):
        prior_weights({"a": 0, "b": 1}, strength=1.0)
    with pytest.raises(ValueError, match="negative"):
        prior_weights({"a": 1, "b": 1}, strength=-1.0)


def test_field_prior_moves_cells_in_doubt_toward_the_photos_own_mix():
    probabilities = np.array([[0.9, 0.1], [0.6, 0.4], [0.5, 0.5]])
    # the photo's mix (2.0, 1.0) pooled with 1 cell of the reference (0.5, 0.5): (0.625, 0.375)
    moved = field_prior(probabilities, np.array([0.5, 0.5]), pseudo_cells=1.0)
    assert np.allclose(moved[2], [0.625, 0.375])
    assert np.allclose(moved[1], np.array([0.6 * 1.25, 0.4 * 0.75]) / 1.05)
    assert np.allclose(field_prior(probabilities, np.array([0.5, 0.5]), pseudo_cells=1e9), probabilities)
    assert field_prior(np.zeros((0, 2)), np.array([0.5, 0.5]), 1.0).shape == (0, 2)
    # a kept class (index 0) keeps each cell's probability; the mix (0.35, 0.475, 0.175) shares the rest
    three = np.array([[0.5, 0.25, 0.25], [0.2, 0.7, 0.1]])
    kept = field_prior(three, np.full(3, 1 / 3), pseudo_cells=0.0, kept=0)
    assert np.allclose(kept[:, 0], three[:, 0]) and np.allclose(kept.sum(axis=1), 1.0)
    assert kept[0, 1] / kept[0, 2] == pytest.approx(0.475 / 0.175)


def test_a_classifier_with_a_field_prior_takes_one_call_as_one_photo():
    patches = np.zeros((3, 8, 8, 4), np.uint8)
    patches[0, ..., 3] = 255  # logits (10, 0, -10); the others: all equal
    reference = {"a": 0.2, "b": 0.5, "c": 0.3}
    plain = Classifier(_Fixed(), classes=("a", "b", "c")).probabilities(patches)
    fielded = Classifier(_Fixed(), classes=("a", "b", "c"), field_reference=reference, field_cells=2.0)
    expected = field_prior(plain, np.array([0.2, 0.5, 0.3]), 2.0)
    assert np.allclose(fielded.probabilities(patches), expected, atol=1e-6)
    # the class weights act after the field prior
    weighted = Classifier(
        _Fixed(), classes=("a", "b", "c"), field_reference=reference, field_cells=2.0, class_weights={"c": 2.0}
    )
    both = expected * [1.0, 1.0, 2.0]
    assert np.allclose(weighted.probabilities(patches), both / both.sum(axis=1, keepdims=True), atol=1e-6)
    with pytest.raises(ValueError, match="field_reference"):
        Classifier(_Fixed(), classes=("a", "b", "c"), field_cells=2.0)
    with pytest.raises(ValueError, match="field_reference"):
        Classifier(_Fixed(), classes=("a", "b", "c"), field_reference={"a": 1.0}, field_cells=2.0)
    with pytest.raises(ValueError, match="negative"):
        Classifier(_Fixed(), classes=("a", "b", "c"), field_reference=reference, field_cells=-1.0)
    with pytest.raises(ValueError, match="field_kept"):
        Classifier(_Fixed(), classes=("a", "b", "c"), field_reference=reference, field_cells=2.0, field_kept="normal")
    keeping = Classifier(_Fixed(), classes=("a", "b", "c"), field_reference=reference, field_cells=2.0, field_kept="a")
    assert np.allclose(keeping.probabilities(patches)[:, 0], plain[:, 0], atol=1e-6)


def test_specimen_mix_is_the_em_estimate_of_the_cells_classes_with_a_least_share():
    # sure cells: the mix is their share of classes
    sure = np.repeat(np.eye(3), [6, 3, 1], axis=0) * 0.98 + 0.02 / 3
    assert np.allclose(specimen_mix(sure), [0.6, 0.3, 0.1], atol=0.01)
    # a cell in doubt between a and b counts for each as the other cells say: at the fixed point
    # m_a = (1 + m_a / (m_a + m_b)) / 2 with m_b = 1 - m_a, so m_a = 1
    doubt = np.array([[1.0, 0.0], [0.5, 0.5]])
    assert np.allclose(specimen_mix(doubt), [1.0, 0.0], atol=1e-3)
    # a least share holds the rare class at least_share / K, the others filling the rest in proportion
    held = specimen_mix(sure, least_share=0.6)
    assert held[2] == pytest.approx(0.2) and held.sum() == pytest.approx(1.0)
    assert held[0] / held[1] == pytest.approx(2.0, rel=0.03)
    assert np.allclose(specimen_mix(sure, least_share=1.0), 1 / 3)  # every share equal: no change
    with pytest.raises(ValueError, match="least_share"):
        specimen_mix(sure, least_share=1.5)
    with pytest.raises(ValueError, match="at least one cell"):
        specimen_mix(np.zeros((0, 3)))


def test_a_classifier_with_a_specimen_mix_weighs_each_class_by_its_share():
    patches = np.zeros((4, 8, 8, 4), np.uint8)
    patches[:3, ..., 3] = 255  # three cells sure of "a" (logits 10, 0, -10); one cell: all equal
    plain = Classifier(_Fixed(), classes=("a", "b", "c"))
    mixed = plain.with_specimen_mix(patches, least_share=0.3)
    mix = specimen_mix(plain.probabilities(patches), 0.3)
    assert np.allclose(mixed.class_weights, mix * 3)
    assert np.allclose(mixed.probabilities(patches[3:]), [mix], atol=1e-6)  # the cell in doubt takes the mix
    assert mix[0] > 0.7 and np.allclose(mix[1:], 0.1)
    assert plain.class_weights is None  # the original is left as it was
    weighted = Classifier(_Fixed(), classes=("a", "b", "c"), class_weights={"b": 2.0})
    assert np.allclose(weighted.with_specimen_mix(patches, 0.3).class_weights, mix * 3 * [1.0, 2.0, 1.0])


class _TwoNorms(torch.nn.Module):
    """A 1x1 convolution, two batch norms and a linear head: the first norm sees the convolution's output."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(4, 2, 1, bias=False)
        self.first, self.second = torch.nn.BatchNorm2d(2), torch.nn.BatchNorm2d(2)
        self.head = torch.nn.Linear(2, 3)

    def forward(self, x):
        return self.head(self.second(self.first(self.conv(x))).mean(dim=(2, 3)))


def test_adapted_takes_the_first_layers_statistics_from_the_patches_and_leaves_the_rest():
    torch.manual_seed(0)
    network = _TwoNorms().eval()
    for norm in (network.first, network.second):
        norm.running_mean.fill_(5.0)
        norm.running_var.fill_(9.0)
    patches = np.random.default_rng(0).integers(0, 256, (6, 8, 8, 4), dtype=np.uint8)
    classifier = Classifier(network, classes=("a", "b", "c"), batch_size=64)
    adapted = classifier.adapted(patches, layers=1)
    with torch.no_grad():
        features = network.conv(torch.from_numpy(patches).permute(0, 3, 1, 2).float() / 255)
    new = adapted.network
    torch.testing.assert_close(new.first.running_mean, features.mean(dim=(0, 2, 3)))
    torch.testing.assert_close(new.first.running_var, features.var(dim=(0, 2, 3)))  # unbiased, as BatchNorm
    assert bool((new.second.running_mean == 5.0).all()) and bool((new.second.running_var == 9.0).all())
    assert not new.first.training and not new.second.training
    # the classifier itself is unchanged, and the copy classifies as the re-estimated network does
    assert bool((network.first.running_mean == 5.0).all()) and adapted.classes == classifier.classes
    assert not np.allclose(adapted.probabilities(patches), classifier.probabilities(patches))


def test_adapted_needs_a_torch_network_patches_and_enough_layers():
    patches = np.zeros((2, 8, 8, 4), np.uint8)
    with pytest.raises(TypeError, match="torch"):
        Classifier(lambda x: x[:, :3, 0, 0], classes=("a", "b", "c")).adapted(patches, 1)
    with pytest.raises(ValueError, match="has 2 batch-norm layers, fewer than the 3"):
        Classifier(_TwoNorms().eval(), classes=("a", "b", "c")).adapted(patches, 3)
    with pytest.raises(ValueError, match="no patches"):
        Classifier(_TwoNorms().eval(), classes=("a", "b", "c")).adapted(patches[:0], 1)


def test_zoomed_magnifies_about_the_centre_and_keeps_the_size():
    patches = torch.zeros((2, 4, 96, 96))
    patches[:, :, 38:58, 38:58] = 1.0  # a 20 px square, centred
    larger = zoomed(patches, 1.25)
    assert larger.shape == (2, 4, 96, 96) and type(larger) is torch.Tensor
    assert larger[0, 3].sum() == 25 * 25 and larger[1, 0].sum() == 25 * 25
    smaller = zoomed(patches, 0.5)
    assert smaller[0, 3].sum() == 10 * 10 and bool((smaller[0, 3, 43:53, 43:53] == 1).all())
    assert smaller[0, 0, 0, 0] == 0  # the edge repeated


class _Sized(torch.nn.Module):
    """Sure of class "a" when the cell mask covers a quarter of the patch, in doubt otherwise.

    Its one batch norm sees the colours only, so re-estimating it leaves the answers alone.
    """

    def __init__(self):
        super().__init__()
        self.norm = torch.nn.BatchNorm2d(3)

    def forward(self, x):
        self.norm(x[:, :3])
        m = x[:, 3].mean(dim=(1, 2))
        sure = 10 - 80 * (m - 0.25).abs()
        return torch.stack([sure, torch.zeros_like(m), torch.zeros_like(m)], dim=1)


def test_adapted_keeps_the_zoom_at_which_the_network_is_least_uncertain():
    patches = np.zeros((4, 32, 32, 4), np.uint8)
    patches[:, 12:20, 12:20, 3] = 255  # an 8 px cell: 1/16 of the patch; zoomed by 2, a quarter
    classifier = Classifier(_Sized().eval(), classes=("a", "b", "c"))
    adapted = classifier.adapted(patches, 1, zooms=[0.5, 1.0, 2.0])
    assert adapted.zoom == 2.0 and classifier.zoom == 1.0
    uncertainties = [classifier.adapted(patches, 1, zooms=[z]).uncertainty(patches) for z in (0.5, 1.0, 2.0)]
    assert adapted.uncertainty(patches) == min(uncertainties) < uncertainties[1]
    assert adapted.probabilities(patches)[:, 0].min() > 0.99  # the cells seen at a quarter of the patch
    assert classifier.probabilities(patches)[:, 0].max() < 0.5
    # without zooms, the classifier's own; of zooms equally uncertain (no cell: the same answers at
    # every zoom), the first
    assert classifier.adapted(patches, 1).zoom == 1.0
    blank = np.zeros_like(patches)
    assert classifier.adapted(blank, 1, zooms=[2.0, 1.0, 0.5]).zoom == 2.0
    with pytest.raises(ValueError, match="zoom must be positive"):
        Classifier(_Sized(), classes=("a", "b", "c"), zoom=0.0)
