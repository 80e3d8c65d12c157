"""A face's own coordinate frame, so measurements ignore image size, position and in-plane rotation."""

import numpy as np

FOREHEAD_TOP, CHIN = 10, 152
# Cheekbone-level pairs whose mean distance is the face width, the unit of every measurement.
FACE_SIDES = ((234, 454), (93, 323), (127, 356))
# Outer and inner corner of each eye (FaceMesh's subject-right eye first).
EYE_CORNERS = ((33, 133), (263, 362))


class FaceFrame:
    """Landmarks in face units: origin between the eyes, eye line horizontal, face width 1, v towards the chin.

    u is a signed distance from the midline whose sign flips in a mirror image, so measurements use
    only |u| differences and v; that makes a mirrored photo (and its landmarks) read the same.
    """

    def __init__(self, landmarks, image_size):
        width, height = image_size
        self.pixels = np.asarray(landmarks, dtype=float)[:, :2] * (width, height)
        eye_centres = [self.pixels[list(corners)].mean(axis=0) for corners in EYE_CORNERS]
        self.origin = (eye_centres[0] + eye_centres[1]) / 2
        across = eye_centres[1] - eye_centres[0]
        down = np.array([-across[1], across[0]])
        if down @ (self.pixels[CHIN] - self.origin) < 0:
            down = -down
        down /= np.linalg.norm(down)
        self.axes = np.array([[down[1], -down[0]], down])
        self.width = float(np.mean([np.linalg.norm(self.pixels[a] - self.pixels[b]) for a, b in FACE_SIDES]))
        self.points = (self.pixels - self.origin) @ self.axes.T / self.width

    def to_pixels(self, uv):
        """Face-unit points (N x 2) back to image pixel coordinates."""
        return self.origin + self.width * (np.asarray(uv, dtype=float) @ self.axes)
