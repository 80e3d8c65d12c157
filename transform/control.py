"""The ControlNet control image, drawn from a face's stored landmarks in controlnet_aux's style.

Reuses controlnet_aux's MediaPipe-face annotator (its colours, connections, line widths and pupils)
so the picture matches what the MediaPipe-face ControlNet was trained on; only the detection step is
replaced by the landmarks we already stored.
"""

import numpy as np
from controlnet_aux.mediapipe_face import mediapipe_face_common as annotator
from mediapipe.framework.formats import landmark_pb2
from PIL import Image

from transform.head_crop import face_landmarks, landmarks_in_box

PUPIL_HALF_WIDTH = 2


def draw_face_mesh(landmarks, size):
    """An RGB image of size (w, h) with the mesh of landmarks (N x 3, x and y normalised to it)."""
    width, height = size
    landmark_list = landmark_pb2.NormalizedLandmarkList(
        landmark=[landmark_pb2.NormalizedLandmark(x=x, y=y, z=z) for x, y, z in landmarks.tolist()]
    )
    # The annotator's colours are BGR: it draws on black and flips the channels at the end.
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    annotator.mp_drawing.draw_landmarks(
        canvas,
        landmark_list,
        connections=annotator.face_connection_spec.keys(),
        landmark_drawing_spec=None,
        connection_drawing_spec=annotator.face_connection_spec,
    )
    annotator.draw_pupils(canvas, landmark_list, annotator.iris_landmark_spec, PUPIL_HALF_WIDTH)
    return Image.fromarray(annotator.reverse_channels(canvas).copy())


def control_image(face, image_size, box, size):
    """The control image for one face of a photo of image_size, framed by box, at size (w, h)."""
    return draw_face_mesh(landmarks_in_box(face_landmarks(face), image_size, box), size)
