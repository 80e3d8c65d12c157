import io
import json
import math
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps
from skimage import data

from tests import sample_images as samples
from transform.faces import LANDMARK_VIEWS, analyze_faces, is_strong_profile, landmark_views
from transform.head_pose import head_pose

REPO_ROOT = Path(__file__).resolve().parents[1]


def decoded(jpeg):
    return Image.open(io.BytesIO(jpeg)).convert("RGB")


def box_area(box):
    return (box[2] - box[0]) * (box[3] - box[1])


def iou(a, b):
    inter = max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
    return inter / (box_area(a) + box_area(b) - inter)


@pytest.fixture(scope="module")
def astronaut_analysis():
    return analyze_faces(samples.astronaut())


def points_in_pixels(analysis, face=0):
    width, height = analysis["image_size"]
    return np.array(analysis["faces"][face]["landmarks"]) * (width, height, width)


def test_portrait_gives_one_face_in_the_contract_format(astronaut_analysis):
    assert astronaut_analysis["version"] == 1
    assert astronaut_analysis["image_size"] == [512, 512]
    (face,) = astronaut_analysis["faces"]
    assert set(face) == {"box", "landmarks", "pose", "score"}
    assert len(face["landmarks"]) == 478
    assert all(len(point) == 3 for point in face["landmarks"])
    landmarks = np.array(face["landmarks"])
    assert (landmarks[:, :2] > 0).all() and (landmarks[:, :2] < 1).all()
    assert all(isinstance(v, int) for v in face["box"])
    assert iou(face["box"], samples.ASTRONAUT_FACE_BOX) > 0.6
    assert 0.5 < face["score"] <= 1
    assert json.loads(json.dumps(astronaut_analysis)) == astronaut_analysis


def test_two_faces_side_by_side_are_both_found_left_to_right():
    faces = analyze_faces(decoded(samples.two_faces_jpeg()))["faces"]
    assert len(faces) == 2
    assert faces[0]["box"][2] < 512 < faces[1]["box"][0]
    assert all(len(face["landmarks"]) == 478 for face in faces)


def test_small_face_in_a_large_photo_is_found_once_where_it_was_pasted():
    analysis = analyze_faces(samples.small_face_photo())
    assert analysis["image_size"] == list(samples.SMALL_FACE_PHOTO_SIZE)
    (face,) = analysis["faces"]
    assert iou(face["box"], samples.small_face_box()) > 0.6
    x0, y0, x1, y1 = face["box"]
    nose_x, nose_y = np.array(face["landmarks"][1][:2]) * samples.SMALL_FACE_PHOTO_SIZE
    assert x0 < nose_x < x1 and y0 < nose_y < y1


@pytest.fixture(scope="module")
def group_analysis():
    return analyze_faces(samples.group_photo())


def test_every_face_of_a_group_photo_is_found_down_to_40_px(group_analysis):
    members = samples.group_members()
    faces = group_analysis["faces"]
    assert len(faces) == len(members)
    for face, (name, portrait, (x, y)) in zip(faces, members):
        x0, y0, x1, y1 = face["box"]
        assert x <= x0 and x1 <= x + portrait.width and y <= y0 and y1 <= y + portrait.height, name
    assert min(face["box"][2] - face["box"][0] for face in faces) < 45


def test_the_pyramid_looks_for_40_px_faces_in_small_photos_and_fits_its_call_budget_in_large_ones():
    from transform.face_detection import MAX_DETECTOR_CALLS, pyramid_sides, smallest_findable_face, tiles

    assert pyramid_sides((512, 512)) == []  # the whole-photo pass alone sees 43 px faces
    assert smallest_findable_face((1024, 768)) == 40
    assert smallest_findable_face((1600, 1200)) <= 45
    for size in [(2000, 1500), (4000, 3000), (6000, 4000)]:
        assert 1 + sum(len(tiles(size, side)) for side in pyramid_sides(size)) <= MAX_DETECTOR_CALLS


def test_dlibs_cnn_finds_a_turned_and_bent_head_in_the_gap_beside_a_group():
    from transform.face_detection import fallback_candidates, load_cnn_detector

    photo = samples.bent_head_beside_two_people()
    group = [(173, 70, 278, 175), (573, 70, 678, 175)]
    (candidate,) = fallback_candidates(load_cnn_detector(), photo, group)
    assert iou(candidate.box, samples.BENT_HEAD_BOX) > 0.4 and candidate.score is None


def test_the_fallback_searches_only_beside_a_group():
    from transform.face_detection import fallback_candidates

    def never_called(*args):
        raise AssertionError("the CNN ran for a single face")

    assert fallback_candidates(never_called, samples.bent_head_beside_two_people(), [(173, 70, 278, 175)]) == []


def test_a_turned_and_bent_head_beside_a_group_is_confirmed_by_facemesh():
    faces = analyze_faces(samples.bent_head_beside_two_people())["faces"]
    assert len(faces) == 3
    assert iou(faces[2]["box"], samples.BENT_HEAD_BOX) > 0.4


@pytest.mark.parametrize(
    "image",
    [
        Image.fromarray(data.coffee()),
        Image.fromarray(np.tile(np.linspace(0, 255, 800, dtype=np.uint8), (600, 1))).convert("RGB"),
        Image.new("RGB", (2400, 1600), (90, 120, 60)),
    ],
    ids=["coffee", "gradient", "large_plain"],
)
def test_photo_without_faces_gives_none(image):
    assert analyze_faces(image)["faces"] == []


def test_frontal_face_has_a_near_zero_pose(astronaut_analysis):
    pose = astronaut_analysis["faces"][0]["pose"]
    assert abs(pose["yaw"]) < 8 and abs(pose["roll"]) < 8 and abs(pose["pitch"]) < 20
    assert not is_strong_profile(astronaut_analysis["faces"][0])


def test_mirrored_face_mirrors_yaw_and_roll(astronaut_analysis):
    pose = astronaut_analysis["faces"][0]["pose"]
    (mirrored,) = analyze_faces(ImageOps.mirror(samples.astronaut()))["faces"]
    assert abs(mirrored["pose"]["yaw"] + pose["yaw"]) < 3
    assert abs(mirrored["pose"]["roll"] + pose["roll"]) < 3
    assert abs(mirrored["pose"]["pitch"] - pose["pitch"]) < 3


def test_extra_landmark_views_find_the_same_face_again_mirrored_ones_with_left_and_right_swapped(astronaut_analysis):
    face = astronaut_analysis["faces"][0]
    stored = np.array(face["landmarks"])[:, :2] * 512
    views = landmark_views(samples.astronaut(), face)
    assert len(views) == len(LANDMARK_VIEWS)
    face_width = np.linalg.norm(stored[234] - stored[454])
    for view, (_, mirrored) in zip(views, LANDMARK_VIEWS):
        points = np.array(view) * 512
        assert points.shape == (478, 2)
        # Within 3 % of the face width of where the stored landmarks put the nose tip and eye corners.
        outer_corners = (263, 33) if mirrored else (33, 263)
        assert np.linalg.norm(points[1] - stored[1]) < 0.03 * face_width
        assert np.linalg.norm(points[list(outer_corners)] - stored[[33, 263]], axis=1).max() < 0.03 * face_width


def test_head_tilted_towards_its_left_shoulder_has_positive_roll(astronaut_analysis):
    # The subject's left shoulder is on the image's right: rotate the photo clockwise.
    (tilted,) = analyze_faces(samples.astronaut().rotate(-15, fillcolor="white"))["faces"]
    assert tilted["pose"]["roll"] - astronaut_analysis["faces"][0]["pose"]["roll"] == pytest.approx(15, abs=4)


def turned(points, yaw=0.0, pitch=0.0):
    """Landmarks (x right, y down, z away) turned about the face's centre by yaw then pitch."""
    y, p = math.radians(yaw), math.radians(pitch)
    turn_left = np.array([[math.cos(y), 0, -math.sin(y)], [0, 1, 0], [math.sin(y), 0, math.cos(y)]])
    look_up = np.array([[1, 0, 0], [0, math.cos(p), math.sin(p)], [0, -math.sin(p), math.cos(p)]])
    centre = points.mean(axis=0)
    return (points - centre) @ (look_up @ turn_left).T + centre


@pytest.mark.parametrize("angle", [-40, 25, 60])
def test_yaw_follows_a_face_turned_to_its_own_left(astronaut_analysis, angle):
    points = points_in_pixels(astronaut_analysis)
    change = head_pose(turned(points, yaw=angle))["yaw"] - head_pose(points)["yaw"]
    assert change == pytest.approx(angle, abs=3)
    assert is_strong_profile({"pose": head_pose(turned(points, yaw=angle))}) == (abs(angle) > 35)


def test_pitch_follows_a_face_looking_up(astronaut_analysis):
    points = points_in_pixels(astronaut_analysis)
    change = head_pose(turned(points, pitch=20))["pitch"] - head_pose(points)["pitch"]
    assert change == pytest.approx(20, abs=3)


def test_concurrent_calls_give_the_same_answer(astronaut_analysis):
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: analyze_faces(samples.astronaut()), range(8)))
    assert all(result == astronaut_analysis for result in results)


def test_face_analysis_loads_no_generation_libraries():
    script = (
        "import sys\n"
        "from skimage import data\n"
        "from PIL import Image\n"
        "import transform.uploads\n"
        "from transform.faces import analyze_faces\n"
        "assert len(analyze_faces(Image.fromarray(data.astronaut()))['faces']) == 1\n"
        "print(sorted({'torch', 'diffusers', 'transformers', 'controlnet_aux'} & set(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    assert result.stdout.strip().splitlines()[-1] == "[]"
