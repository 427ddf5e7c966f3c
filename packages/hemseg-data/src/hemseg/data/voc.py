"""Pascal VOC box files (``boxes/<id>.xml``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from hemseg.data.layout import LayoutError


@dataclass(frozen=True)
class Box:
    """One annotated object: class name, pixel corners (inclusive VOC convention), truncation flag."""

    name: str
    xmin: int
    ymin: int
    xmax: int
    ymax: int
    truncated: bool = False

    @property
    def diameter(self) -> float:
        """Mean of the box's width and height, in pixels."""
        return ((self.xmax - self.xmin) + (self.ymax - self.ymin)) / 2


def read_boxes(path: str | Path) -> list[Box]:
    """Read the objects of one VOC file.

    Raises:
        LayoutError: the file is missing, not XML, or an object lacks its box.

    """
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except FileNotFoundError:
        raise LayoutError(f"{path}: no such file") from None
    except ET.ParseError as err:
        raise LayoutError(f"{path}: not valid XML ({err})") from None
    boxes = []
    for obj in root.iter("object"):
        name = (obj.findtext("name") or "").strip()
        bndbox = obj.find("bndbox")
        try:
            coords = [int(float(bndbox.findtext(k))) for k in ("xmin", "ymin", "xmax", "ymax")]
        except (AttributeError, TypeError, ValueError):
            raise LayoutError(f"{path}: object {name!r} has no valid bndbox") from None
        truncated = (obj.findtext("truncated") or "0").strip() == "1"
        boxes.append(Box(name, *coords, truncated=truncated))
    return boxes
