from __future__ import annotations

import json

import pytest
import torch

from hemseg.models import (
    WeightsError,
    average_checkpoints,
    field_reference,
    file_sha256,
    load_weights,
    publish_field_reference,
    publish_weights,
    save_weights,
    segmentation_network,
)


def test_fp16_round_trip_checks_sha256(tmp_path):
    net = segmentation_network(out_channels=2, decoder_channels=(16, 16, 16, 16, 16)).eval()
    path = tmp_path / "model.pt"
    digest = save_weights(net, path)
    assert digest == file_sha256(path)
    assert all(v.dtype in (torch.float16, torch.int64) for v in torch.load(path, weights_only=True).values())
    other = load_weights(segmentation_network(out_channels=2, decoder_channels=(16,) * 5).eval(), path, digest)
    image = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(net(image), other(image), atol=2e-2)
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_values_beyond_fp16_stay_fp32(tmp_path):
    # an untrained deep network's batch norm can reach running variances beyond 65504 (ResNet34 +
    # U-Net after 6 epochs: 3.1e5); cast to fp16 they became infinite, which silenced those channels
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4)).eval()
    net[1].running_var.fill_(3.1e5)
    net[1].weight.data.fill_(500.0)
    path = tmp_path / "model.pt"
    save_weights(net, path)
    state = torch.load(path, weights_only=True)
    assert state["1.running_var"].dtype == torch.float32 and state["0.weight"].dtype == torch.float16
    other = load_weights(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4)).eval(), path)
    image = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        assert net(image).abs().max() > 0.1
        assert torch.allclose(net(image), other(image), atol=1e-2)


def test_altered_missing_or_mismatched_files_are_refused(tmp_path):
    net = segmentation_network(out_channels=2, decoder_channels=(16,) * 5)
    path = tmp_path / "model.pt"
    digest = save_weights(net, path)
    with pytest.raises(WeightsError, match="SHA-256 is"):
        load_weights(net, path, "0" * 64)
    with pytest.raises(WeightsError, match="no such weight file"):
        load_weights(net, tmp_path / "missing.pt")
    with pytest.raises(WeightsError, match="does not fit"):
        load_weights(segmentation_network(out_channels=3, decoder_channels=(16,) * 5), path, digest)


def test_kept_entries_start_a_new_head_on_another_tasks_weights(tmp_path):
    # the red-cell classifier may start from the white-cell classifier: every entry but the head's
    donor = torch.nn.Sequential(torch.nn.Conv2d(4, 8, 3), torch.nn.BatchNorm2d(8), torch.nn.Linear(8, 9))
    donor[1].running_mean.fill_(0.5)
    path = tmp_path / "model.pt"
    save_weights(donor, path)
    net = torch.nn.Sequential(torch.nn.Conv2d(4, 8, 3), torch.nn.BatchNorm2d(8), torch.nn.Linear(8, 12))
    head = net[2].weight.detach().clone()
    load_weights(net, path, keep=["2."])
    assert torch.equal(net[2].weight, head)
    assert torch.allclose(net[0].weight, donor[0].weight, atol=1e-3)
    assert torch.equal(net[1].running_mean, torch.full((8,), 0.5))
    with pytest.raises(WeightsError, match="does not fit"):
        load_weights(net, path)


def test_pickled_code_is_not_executed(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "evil.pt"
    torch.save({"x": Evil()}, path)
    with pytest.raises(Exception, match="Weights only load failed"):
        load_weights(segmentation_network(out_channels=2), path)


def test_published_weights_and_field_reference_are_recorded_with_their_digest(tmp_path):
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "metadata.json").write_text(json.dumps({"version": "1", "hemseg": {"kept": 1}}))
    checkpoint = tmp_path / "checkpoint.pt"
    torch.save({"weight": torch.arange(4.0)}, checkpoint)
    digest = publish_weights(checkpoint, tmp_path)
    assert digest == file_sha256(tmp_path / "models" / "model.pt")
    publish_field_reference({"normal": 0.9, "target_cell": 0.1000004}, tmp_path)
    meta = json.loads((tmp_path / "configs" / "metadata.json").read_text())
    assert meta["version"] == "1" and meta["hemseg"]["kept"] == 1 and meta["hemseg"]["model_sha256"] == digest
    assert field_reference(meta["hemseg"]) == {"normal": 0.9, "target_cell": 0.1}
    publish_weights(checkpoint, tmp_path)  # the same weights again: the reference holds
    assert field_reference(json.loads((tmp_path / "configs" / "metadata.json").read_text())["hemseg"])
    torch.save({"weight": torch.ones(4)}, checkpoint)
    publish_weights(checkpoint, tmp_path)  # other weights: the reference no longer does
    with pytest.raises(WeightsError, match="other weights"):
        field_reference(json.loads((tmp_path / "configs" / "metadata.json").read_text())["hemseg"])


def test_checkpoints_are_averaged_tensor_by_tensor_counters_from_the_last(tmp_path):
    paths = [tmp_path / "a.pt", tmp_path / "b.pt", tmp_path / "c.pt"]
    for i, p in enumerate(paths):
        torch.save({"w": torch.full((2,), float(i)), "n": torch.tensor(10 * i), "h": torch.ones(1).half() * i}, p)
    digest = average_checkpoints(paths, tmp_path / "soup.pt")
    assert digest == file_sha256(tmp_path / "soup.pt")
    soup = torch.load(tmp_path / "soup.pt", weights_only=True)
    assert soup["w"].tolist() == [1.0, 1.0] and soup["w"].dtype == torch.float32
    assert soup["n"].item() == 20 and soup["h"].dtype == torch.float16 and soup["h"].item() == 1.0
    torch.save({"other": torch.zeros(2)}, paths[2])
    with pytest.raises(WeightsError, match="one network"):
        average_checkpoints(paths, tmp_path / "soup.pt")
