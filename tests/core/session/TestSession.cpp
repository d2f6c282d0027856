// The session layer with no window: whole workflows on a photo and on a volume (open with the
// ground truth found beside it, segment with the packaged demo models, accept the result or a
// step, edit with undo, walk the uncertain regions, Dice against the ground truth, save, autosave
// and restore), the observers' events, and the errors that must leave a session as it was. The
// model-family seam: what each family says it can do, and the options it refuses.

#include "base/Error.h"
#include "data/DemoData.h"
#include "imaging/MaskResize.h"
#include "inference/Segmenter.h"
#include "inference/Segmenter2D.h"
#include "inference/Segmenter3D.h"
#include "io/ImageReader.h"
#include "io/ImageWriter.h"
#include "io/VolumeReader.h"
#include "io/VolumeWriter.h"
#include "metrics/ForegroundOverlap.h"
#include "session/DocumentPaths.h"
#include "session/PhotoSession.h"
#include "session/Sessions.h"
#include "session/VolumeSession.h"

#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cstring>
#include <functional>

using namespace diffseg::core;

namespace {

const QString kModels = QStringLiteral(DIFFSEG_SOURCE_DIR "/resources/models");

std::string modelPath(const char* name)
{
    return (kModels + "/" + name).toStdString();
}

bool sameBytes(const void* a, const void* b, std::size_t n)
{
    return std::memcmp(a, b, n) == 0;
}

/// Records the observer's events in order.
struct EventLog
{
    std::vector<SessionEvent> events;
    int count(SessionEvent e) const
    {
        return static_cast<int>(std::count(events.begin(), events.end(), e));
    }
};

/// Expects `f` to throw Error of `kind`.
void expectError(ErrorKind kind, const std::function<void()>& f)
{
    try {
        f();
    } catch (const Error& e) {
        QCOMPARE(static_cast<int>(e.kind()), static_cast<int>(kind));
        return;
    }
    QFAIL("no Error was thrown");
}

} // namespace

class TestSession : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        if (!QFile::exists(kModels + "/dermoscopy-demo.dsckpt") ||
            !QFile::exists(kModels + "/diffunet-demo.dsckpt")) {
            QSKIP("the packaged demo models are missing (resources/models): run "
                  "packaging/make-demo-models.sh");
        }
    }

    void familiesSayWhatTheyCanDo()
    {
        QCOMPARE(*checkpointInputKind(modelPath("dermoscopy-demo.dsckpt")), InputKind::Photo);
        QCOMPARE(*checkpointInputKind(modelPath("diffunet-demo.dsckpt")), InputKind::Volume);
        const QString text = m_tmp.filePath("notes.txt");
        QFile file(text);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("not a model");
        file.close();
        QVERIFY(!checkpointInputKind(text.toStdString()));
        expectError(ErrorKind::Format, [&] { openSegmenter(text.toStdString()); });
        expectError(ErrorKind::NotFound, [&] { checkpointInputKind(text.toStdString() + ".x"); });

        const std::unique_ptr<Segmenter> photo = openSegmenter(modelPath("dermoscopy-demo.dsckpt"));
        const ModelCapabilities p = photo->capabilities();
        QCOMPARE(p.family, std::string("DermoSegDiff"));
        QCOMPARE(p.input, InputKind::Photo);
        QCOMPARE(p.channels, 3);
        QVERIFY(p.ensemble && p.prompts && !p.slidingWindow && !p.mirrorTta);
        QCOMPARE(p.samplers, (std::vector<std::string>{"ddpm", "ddim"}));
        QVERIFY(p.maxSteps > 0);
        QCOMPARE(p.defaults.uncertainty, std::string("entropy"));

        const std::unique_ptr<Segmenter> volume = openSegmenter(modelPath("diffunet-demo.dsckpt"));
        const ModelCapabilities v = volume->capabilities();
        QCOMPARE(v.family, std::string("Diff-UNet"));
        QCOMPARE(v.input, InputKind::Volume);
        QVERIFY(!v.ensemble && v.stepFusion && v.mirrorTta && v.slidingWindow && v.prompts);
        QCOMPARE(v.labels.front(), std::string("background"));

        // Options a family does not have are refused by name, not ignored.
        SegmentationRequest r;
        r.ensemble = 3;
        expectError(ErrorKind::Config, [&] { v.validate(r); });
        p.validate(r);
        r = {};
        r.mirrorTta = true;
        expectError(ErrorKind::Config, [&] { p.validate(r); });
        v.validate(r);
        r = {};
        r.sampler = "euler";
        expectError(ErrorKind::Config, [&] { p.validate(r); });
        r = {};
        r.steps = p.maxSteps + 1;
        expectError(ErrorKind::Config, [&] { p.validate(r); });
        r = {};
        r.uncertainty = "mirror";
        expectError(ErrorKind::Config, [&] { p.validate(r); });
        v.validate(r);
        // The photo-only run options: a threshold start, a first look, keeping every step.
        for (int option = 0; option < 3; ++option) {
            r = {};
            r.startFromOtsu = option == 0 ? 0.5 : -1.0;
            r.firstLook = option == 1;
            r.keepEveryStepUpTo = option == 2 ? 1 << 20 : 0;
            p.validate(r);
            expectError(ErrorKind::Config, [&] { v.validate(r); });
        }
        r = {};
        r.startFromOtsu = 1.5;
        expectError(ErrorKind::Config, [&] { p.validate(r); });
    }

    void aModelSaysWhoItIsWhatItPlansAndWhatItRan()
    {
        const std::unique_ptr<Segmenter> photo = openSegmenter(modelPath("dermoscopy-demo.dsckpt"));
        const ModelIdentity id = photo->identity();
        QCOMPARE(id.path, photo->path());
        QCOMPARE(id.id, photo->modelId());
        QCOMPARE(id.device, std::string("cpu"));
        QVERIFY(id.parameterCount > 0 && id.inputSize > 0);
        QCOMPARE(id.diffusionSteps, photo->capabilities().maxSteps);
        QVERIFY(photo->capabilities().labelsNamed);

        // The timesteps a run visits, in order; a refinement starts later in the schedule.
        SegmentationRequest request;
        request.sampler = "ddim";
        request.steps = 5;
        request.ensemble = 2;
        request.seed = 4;
        request.keepEveryStepUpTo = std::size_t(64) << 20;
        const std::vector<int> planned = photo->plannedTimesteps(request);
        QCOMPARE(planned.size(), std::size_t(5));
        QVERIFY(std::is_sorted(planned.rbegin(), planned.rend()));
        SegmentationPrompts prompts;
        prompts.strength = 0.5;
        const std::vector<int> refined = photo->plannedTimesteps(request, &prompts);
        QVERIFY(!refined.empty() && refined.front() < planned.front());
        request.steps = photo->capabilities().maxSteps + 1;
        expectError(ErrorKind::Config, [&] { photo->plannedTimesteps(request); });
        request.steps = 5;

        // The outcome says what the run used, defaults filled in, and kept every step.
        const DermoscopyDemo demo = generateDermoscopyDemo(96, 80, 10002);
        const SegmentationOutcome out =
            photo->segmentInput(SegmentationInput::ofPhoto(demo.image), request);
        QCOMPARE(out.settings.sampler, std::string("ddim"));
        QCOMPARE(out.settings.steps, 5);
        QCOMPARE(out.settings.ensemble, 2);
        QCOMPARE(out.settings.seed, std::uint64_t(4));
        QVERIFY(out.settings.eta >= 0.0 && out.settings.startFromOtsu >= 0.0);
        QCOMPARE(out.steps()->storedSteps(0).size(), std::size_t(5));
        QCOMPARE(out.steps()->storedSteps(1).size(), std::size_t(5));

        const std::unique_ptr<Segmenter> volume = openSegmenter(modelPath("diffunet-demo.dsckpt"));
        QVERIFY(volume->plannedTimesteps({}).empty()); // Diff-UNet numbers its steps
        QVERIFY(!volume->identity().normalization.empty());
        QVERIFY(volume->identity().inputSize > 0);
    }

    void photoWorkflowWithoutAWindow()
    {
        // A generated photo the demo model never trained on, in images/ + masks/.
        const DermoscopyDemo demo = generateDermoscopyDemo(160, 120, 10001);
        QVERIFY(QDir().mkpath(m_tmp.filePath("photos/images")));
        QVERIFY(QDir().mkpath(m_tmp.filePath("photos/masks")));
        const std::string photo = m_tmp.filePath("photos/images/lesion_7.png").toStdString();
        writeImage(demo.image, photo);
        writeMaskPng(demo.mask,
                     m_tmp.filePath("photos/masks/lesion_7_segmentation.png").toStdString());
        // A near miss by name that must not be taken for its ground truth.
        writeMaskPng(demo.mask,
                     m_tmp.filePath("photos/masks/lesion_77_segmentation.png").toStdString());

        QCOMPARE(documentKind(photo), InputKind::Photo);
        std::unique_ptr<Session> session = createSession(InputKind::Photo);
        EventLog log;
        session->addObserver([&log](const SessionChange& c) { log.events.push_back(c.event); });
        session->open(photo);
        auto& photoSession = dynamic_cast<PhotoSession&>(*session);
        QCOMPARE(log.count(SessionEvent::Opened), 1);
        QCOMPARE(log.count(SessionEvent::GroundTruth), 1);
        QVERIFY(session->hasGroundTruth());
        QVERIFY(QString::fromStdString(session->groundTruthPath())
                    .endsWith("lesion_7_segmentation.png"));
        QVERIFY(!session->isDirty());
        QCOMPARE(session->metrics()->dice, 0.0); // an empty mask against a lesion

        // Segment: the result is pending, the labels untouched until it is accepted.
        const std::unique_ptr<Segmenter> model = openSegmenter(modelPath("dermoscopy-demo.dsckpt"));
        SegmentationRequest request;
        request.sampler = "ddim";
        request.steps = 5;
        request.ensemble = 2;
        request.seed = 3;
        int steps = 0;
        session->segment(*model, request, [&steps](const SegmentationStepEvent& e) {
            QVERIFY(e.photo && !e.volume);
            QCOMPARE(e.completedStep, steps);
            QCOMPARE(e.total, 5);
            ++steps;
        });
        QCOMPARE(steps, 5);
        QVERIFY(session->hasResult() && session->resultPending());
        QCOMPARE(session->labelledCount(), std::size_t(0));
        QVERIFY(!session->isDirty());
        QCOMPARE(session->result().stepCount(), 5);
        QCOMPARE(session->uncertaintyMaps(),
                 (std::vector<std::string>{"std", "entropy", "instability"}));
        QCOMPARE(session->uncertainty(), std::string("entropy"));

        QVERIFY(session->acceptResult());
        const Image2D& resultMask = session->result().photo->mask;
        QVERIFY(
            sameBytes(photoSession.mask().rawData(), resultMask.rawData(), resultMask.byteSize()));
        QVERIFY(session->isDirty() && !session->resultPending());
        QCOMPARE(session->history().undoTitle(), std::string("Accept AI result"));
        const double dice = session->metrics()->dice;
        QCOMPARE(dice, foregroundDice(resultMask, demo.mask));
        qInfo("demo model on a generated photo: Dice %.3f", dice);
        QVERIFY2(dice > 0.5, "the demo model misses the generated lesion");

        // Uncertain regions: largest first, the walk starts again after the last.
        for (const std::string& map : session->uncertaintyMaps()) {
            session->chooseUncertainty(map);
            const std::vector<UncertainRegion>& regions = session->regions();
            for (std::size_t i = 1; i < regions.size(); ++i) {
                QVERIFY(regions[i - 1].voxels >= regions[i].voxels);
            }
            for (const UncertainRegion& region : regions) {
                QVERIFY(region.box.hi[0] <= photoSession.image().width() + 1);
                QVERIFY(region.box.hi[1] <= photoSession.image().height() + 1);
            }
            if (!regions.empty()) {
                const int count = static_cast<int>(regions.size());
                for (int i = 0; i < count; ++i) {
                    const RegionVisit visit = *session->nextUncertainRegion();
                    QCOMPARE(visit.index, i);
                    QCOMPARE(visit.last, i == count - 1);
                }
                QCOMPARE(session->nextUncertainRegion()->index, 0);
            }
        }
        expectError(ErrorKind::Config, [&] { session->chooseUncertainty("mirror"); });

        // A step of one member, then the brush, each one undo step.
        QVERIFY(session->acceptStep(2, 1));
        QCOMPARE(session->history().undoTitle(), std::string("Use step 3"));
        QVERIFY(QString::fromStdString(session->acceptNote()).contains("member 2"));
        const Image2D step =
            upsampleToMask(session->result().steps()->get(1, 2, FrameKind::X0).image(), 160, 120);
        QVERIFY(sameBytes(photoSession.mask().rawData(), step.rawData(), step.byteSize()));
        QVERIFY(!session->acceptStep(99));
        const std::size_t before = session->labelledCount();
        session->editor().beginStroke("Brush");
        session->editor().stamp(5.5, 5.5, 3.0, 1);
        session->editor().endStroke();
        QVERIFY(session->labelledCount() > before);
        QCOMPARE(session->history().undoTitle(), std::string("Brush"));
        session->undo();
        QCOMPARE(session->labelledCount(), before);
        session->redo();
        QVERIFY(session->labelledCount() > before);

        // Save: atomic, the file holds the mask, the document is clean.
        const std::string saved = m_tmp.filePath("photos/out_mask.png").toStdString();
        session->save(saved);
        QVERIFY(!session->isDirty());
        QCOMPARE(log.count(SessionEvent::Saved), 1);
        const Image2D reread = readMask(saved);
        QVERIFY(sameBytes(reread.rawData(), photoSession.mask().rawData(), reread.byteSize()));

        // Autosave after one more edit; a new session restores it as one undo step.
        session->clearLabels();
        session->editor().beginStroke("Brush");
        session->editor().strokeTo(20.0, 20.0, 4.0, 1);
        session->editor().strokeTo(60.0, 40.0, 4.0, 1);
        session->editor().endStroke();
        const std::string folder = m_tmp.filePath("photos/autosave").toStdString();
        session->autosave(folder);
        const AutosaveContents contents = Session::readAutosave(folder);
        QCOMPARE(contents.kind, InputKind::Photo);
        QCOMPARE(contents.document, session->path());
        QCOMPARE(contents.groundTruth, session->groundTruthPath());
        QCOMPARE(contents.edits, static_cast<int>(session->history().undoCount()));
        PhotoSession restored;
        restored.restoreAutosave(contents);
        QVERIFY(sameBytes(restored.mask().rawData(), photoSession.mask().rawData(),
                          photoSession.mask().byteSize()));
        QVERIFY(restored.hasGroundTruth() && restored.isDirty());
        QCOMPARE(restored.history().undoTitle(), std::string("Restore autosaved edits"));
        QCOMPARE(restored.metrics()->dice, session->metrics()->dice);

        // Errors leave the session as it was.
        const std::string path = session->path();
        expectError(ErrorKind::NotFound, [&] { session->open(photo + ".missing.png"); });
        QCOMPARE(session->path(), path);
        const DermoscopyDemo other = generateDermoscopyDemo(64, 64, 5);
        const std::string small = m_tmp.filePath("photos/small_mask.png").toStdString();
        writeMaskPng(other.mask, small);
        expectError(ErrorKind::Mismatch, [&] { session->loadGroundTruth(small); });
        QVERIFY(QString::fromStdString(session->groundTruthPath())
                    .endsWith("lesion_7_segmentation.png"));
        expectError(ErrorKind::Mismatch, [&] { session->loadLabels(small); });
        const std::unique_ptr<Segmenter> volumeModel =
            openSegmenter(modelPath("diffunet-demo.dsckpt"));
        expectError(ErrorKind::Mismatch, [&] { session->segment(*volumeModel); });
    }

    void clicksRefineAPhotoAndAVolumeThroughOneCall()
    {
        // The correction workflow's clicks through the seam: Session::refine starts from the
        // labels as they are and the result honours every click, for either family.
        const DermoscopyDemo demo = generateDermoscopyDemo(160, 120, 10005);
        std::unique_ptr<Session> photo = createSession(InputKind::Photo);
        dynamic_cast<PhotoSession&>(*photo).openImage(demo.image, "generated");
        const std::unique_ptr<Segmenter> photoModel =
            openSegmenter(modelPath("dermoscopy-demo.dsckpt"));
        SegmentationPrompts none;
        expectError(ErrorKind::Mismatch, [&] {
            photoModel->refineInput(photo->input(), SegmentationLabels::ofVolume(LabelMap()), none);
        });
        // A lesion click where the labels (empty so far) say background, and a background click
        // beside it: both hold in the result, whatever the model says.
        SegmentationPrompts prompts;
        prompts.clicks = {{{40.5, 60.5, 0.0}, 1}, {{120.5, 60.5, 0.0}, 0}};
        prompts.radius = 6.0;
        SegmentationRequest request;
        request.seed = 5;
        int steps = 0;
        photo->refine(*photoModel, prompts, request,
                      [&steps](const SegmentationStepEvent&) { ++steps; });
        QVERIFY(steps > 0);
        QVERIFY(photo->hasResult() && photo->resultPending());
        const Image2D& mask = photo->result().photo->mask;
        for (int d = -4; d <= 4; ++d) {
            QCOMPARE(int(mask.at<std::uint8_t>(40 + d, 60)), 1);
            QCOMPARE(int(mask.at<std::uint8_t>(120 + d, 60)), 0);
        }
        QVERIFY(photo->acceptResult());
        QVERIFY(photo->labelledCount() > 0);
        // Errors name the prompt: a third class on a photo, a strength past 1, a box on a volume.
        SegmentationPrompts bad = prompts;
        bad.clicks[0].label = 2;
        expectError(ErrorKind::InvalidValue, [&] { photo->refine(*photoModel, bad); });
        bad = prompts;
        bad.strength = 1.5;
        expectError(ErrorKind::Config, [&] { photo->refine(*photoModel, bad); });

        const CtPhantomDemo phantom = generateCtPhantomDemo({48, 48, 24}, 10007);
        std::unique_ptr<Session> volume = createSession(InputKind::Volume);
        auto& volumeSession = dynamic_cast<VolumeSession&>(*volume);
        volumeSession.openVolume(phantom.volume, "phantom");
        const std::unique_ptr<Segmenter> volumeModel =
            openSegmenter(modelPath("diffunet-demo.dsckpt"));
        expectError(ErrorKind::Mismatch, [&] { volume->refine(*photoModel, prompts); });
        SegmentationPrompts spheres;
        // Class 1 in a corner of air, background at the phantom's centre: both contradict it.
        spheres.clicks = {{{4.5, 4.5, 4.5}, 1}, {{24.5, 24.5, 12.5}, 0}};
        spheres.radius = 3.0;
        SegmentationRequest volumeRequest;
        volumeRequest.steps = 2;
        volumeRequest.seed = 1;
        volume->refine(*volumeModel, spheres, volumeRequest);
        QVERIFY(volume->hasResult());
        const LabelMap& labels = volume->result().volume->labels;
        const auto label = [&labels](std::int64_t i, std::int64_t j, std::int64_t k) {
            const std::size_t n = labels.linearIndex(i, j, k);
            return labels.pixelType() == PixelType::UInt8 ? int(labels.data<std::uint8_t>()[n])
                                                          : int(labels.data<std::uint16_t>()[n]);
        };
        QVERIFY(label(4, 4, 4) != 0);
        QCOMPARE(label(24, 24, 12), 0);
        SegmentationPrompts boxed = spheres;
        boxed.box = std::array<int, 4>{0, 0, 10, 10};
        expectError(ErrorKind::InvalidValue, [&] { volume->refine(*volumeModel, boxed); });
        boxed = spheres;
        boxed.clicks[0].label = 9;
        expectError(ErrorKind::InvalidValue, [&] { volume->refine(*volumeModel, boxed); });
    }

    void volumeWorkflowWithoutAWindow()
    {
        const CtPhantomDemo phantom = generateCtPhantomDemo({64, 64, 32}, 10003);
        const std::string ct = m_tmp.filePath("ct.nii.gz").toStdString();
        writeVolume(phantom.volume, ct);
        writeLabelMap(phantom.labels, m_tmp.filePath("ct_seg.nii.gz").toStdString());
        QCOMPARE(documentKind(ct), InputKind::Volume);

        std::unique_ptr<Session> session = openSession(ct);
        auto& volumeSession = dynamic_cast<VolumeSession&>(*session);
        QCOMPARE(session->kind(), InputKind::Volume);
        QVERIFY(session->hasGroundTruth());
        QCOMPARE(volumeSession.labels().size(), phantom.volume.size());

        const std::unique_ptr<Segmenter> model = openSegmenter(modelPath("diffunet-demo.dsckpt"));
        SegmentationRequest request;
        request.steps = 2;
        request.seed = 1;
        int completed = 0;
        session->segment(*model, request, [&completed](const SegmentationStepEvent& e) {
            QVERIFY(e.volume && !e.photo);
            completed += e.completedStep >= 0 ? 1 : 0;
        });
        QCOMPARE(completed, 2);
        QVERIFY(session->hasResult());
        QCOMPARE(session->uncertainty(), std::string("steps"));
        QVERIFY(session->acceptResult());
        const LabelMap& result = session->result().volume->labels;
        QVERIFY(sameBytes(volumeSession.labels().rawData(), result.rawData(), result.byteSize()));
        std::size_t labelled = 0;
        for (std::size_t v = 0; v < result.voxelCount(); ++v) {
            labelled += result.data<std::uint8_t>()[v] != 0;
        }
        QVERIFY(labelled > 0);
        QCOMPARE(session->labelledCount(), labelled);
        QCOMPARE(session->metrics()->dice, foregroundDice(result, phantom.labels));
        qInfo("demo volume model on a generated phantom: Dice %.3f", session->metrics()->dice);

        for (const std::string& map : session->uncertaintyMaps()) {
            session->chooseUncertainty(map);
            for (const UncertainRegion& region : session->regions()) {
                QVERIFY(region.voxels >= 8);
            }
        }
        QVERIFY(session->acceptStep(0));
        const LabelMap step0 = Segmenter3D::stepLabelsFromCache(*session->result().steps(), 0);
        QVERIFY(sameBytes(volumeSession.labels().rawData(), step0.rawData(), step0.byteSize()));
        session->undo();
        QVERIFY(sameBytes(volumeSession.labels().rawData(), result.rawData(), result.byteSize()));

        // A brush stroke on an axial slice, saved with the volume's geometry.
        EditPlane axial;
        axial.axis = 2;
        axial.index = 16;
        session->editor().beginStroke("Brush", axial);
        session->editor().stamp(10.5, 10.5, 6.0, 1);
        session->editor().endStroke();
        const std::string saved = m_tmp.filePath("ct_labels.nrrd").toStdString();
        session->save(saved);
        const LabelMap reread = readLabelMap(saved).labels;
        QVERIFY(reread.geometry().isClose(phantom.volume.geometry(), 1e-6));
        QVERIFY(sameBytes(reread.rawData(), volumeSession.labels().rawData(), reread.byteSize()));

        const std::string folder = m_tmp.filePath("ct_autosave").toStdString();
        session->autosave(folder);
        std::unique_ptr<Session> restored = createSession(InputKind::Volume);
        restored->restoreAutosave(Session::readAutosave(folder));
        QVERIFY(sameBytes(dynamic_cast<VolumeSession&>(*restored).labels().rawData(),
                          volumeSession.labels().rawData(), reread.byteSize()));
        QVERIFY(restored->hasGroundTruth());
        expectError(ErrorKind::Mismatch, [&] {
            createSession(InputKind::Photo)->restoreAutosave(Session::readAutosave(folder));
        });

        // A label map on another grid is refused, naming the file.
        const CtPhantomDemo small = generateCtPhantomDemo({32, 32, 16}, 4);
        const std::string other = m_tmp.filePath("other_seg.nii.gz").toStdString();
        writeLabelMap(small.labels, other);
        try {
            session->loadGroundTruth(other);
            QFAIL("a label map on another grid was taken");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::Mismatch);
            QCOMPARE(e.subject(), other);
        }
    }

    void volumeHeldInMemoryWithLabelsSetAsTheyAre()
    {
        // What the studio's volume workspace does: a volume read elsewhere (or generated),
        // labels loaded as they are (no undo step), replaced as one step, an in-memory truth.
        const CtPhantomDemo phantom = generateCtPhantomDemo({40, 40, 16}, 5);
        VolumeSession session;
        std::vector<SessionEvent> events;
        session.addObserver([&events](const SessionChange& c) { events.push_back(c.event); });
        VolumeSource source;
        source.notes.push_back("read by the caller");
        session.openVolume(phantom.volume, m_tmp.filePath("held.nii.gz").toStdString(), source);
        QCOMPARE(events.back(), SessionEvent::Opened);
        QCOMPARE(session.source().notes.size(), std::size_t(1));
        QCOMPARE(session.source().path, m_tmp.filePath("held.nii.gz").toStdString());
        QVERIFY(!session.isDirty());

        session.setLabelsWithoutHistory(phantom.labels);
        QCOMPARE(events.back(), SessionEvent::Labels);
        QVERIFY(!session.history().canUndo());
        QVERIFY(!session.isDirty());
        QVERIFY(session.labels().rawData() != phantom.labels.rawData()); // a copy
        QVERIFY(sameBytes(session.labels().rawData(), phantom.labels.rawData(),
                          phantom.labels.byteSize()));

        session.replaceLabels(LabelMap::like(phantom.volume), "Clear by hand");
        QCOMPARE(session.history().undoTitle(), std::string("Clear by hand"));
        QVERIFY(session.isDirty());
        QCOMPARE(session.labelledCount(), std::size_t(0));
        session.undo();
        QVERIFY(sameBytes(session.labels().rawData(), phantom.labels.rawData(),
                          phantom.labels.byteSize()));

        QVERIFY(!session.metrics());
        session.setGroundTruth(phantom.labels);
        QVERIFY(session.groundTruthPath().empty());
        QCOMPARE(session.metrics()->dice, 1.0);

        // Another grid is refused for each of them; a generated volume has no path.
        const CtPhantomDemo small = generateCtPhantomDemo({20, 20, 16}, 6);
        expectError(ErrorKind::Mismatch, [&] { session.setLabelsWithoutHistory(small.labels); });
        expectError(ErrorKind::Mismatch, [&] { session.replaceLabels(small.labels, "x"); });
        expectError(ErrorKind::Mismatch, [&] { session.setGroundTruth(small.labels); });
        session.openVolume(small.volume, {});
        QVERIFY(session.path().empty());
        QVERIFY(session.labels().maxLabel() == 0);
    }

private:
    QTemporaryDir m_tmp;
};

QTEST_GUILESS_MAIN(TestSession)
#include "TestSession.moc"
