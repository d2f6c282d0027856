#include "TrainingPanel.h"

#include "TrainingCharts.h"
#include "image/ImageConversion.h"
#include "image/MaskOutline.h"

#include <QComboBox>
#include <QDesktopServices>
#include <QDoubleValidator>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QPainter>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollArea>
#include <QScrollBar>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTextBlock>
#include <QTextCursor>
#include <QTextDocument>
#include <QThread>
#include <QToolButton>
#include <QTreeWidget>
#include <QUrl>
#include <QVBoxLayout>

#include <climits>

#include <algorithm>
#include <cmath>

namespace diffseg::widgets {

namespace {

/// Validations whose sampled predictions stay on show (newest first).
constexpr std::size_t kSampleRows = 4;
/// Side of a validation thumbnail in pixels.
constexpr int kThumbnailSide = 104;

QString formatDuration(double seconds)
{
    if (!std::isfinite(seconds) || seconds < 0) {
        return QStringLiteral("?");
    }
    const qint64 s = static_cast<qint64>(std::llround(seconds));
    if (s < 60) {
        return QObject::tr("%1 s").arg(s);
    }
    if (s < 3600) {
        return QObject::tr("%1 min %2 s").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
    }
    return QObject::tr("%1 h %2 min").arg(s / 3600).arg(s / 60 % 60, 2, 10, QLatin1Char('0'));
}

QString formatNumber(double v)
{
    return std::isfinite(v) ? QString::number(v, 'g', 4) : QStringLiteral("n/a");
}

/// The image with the outlines of the ground truth (yellow) and the prediction (cyan) drawn over
/// it, scaled to `side`: outlines rather than fills, so that the lesion itself stays visible.
QPixmap sampleThumbnail(const QString& imagePath, const QString& truthPath,
                        const QString& predictionPath, int side)
{
    const QImage image(imagePath);
    if (image.isNull()) {
        QPixmap empty(side, side);
        empty.fill(QColor(60, 60, 60));
        return empty;
    }
    QImage canvas = image.convertToFormat(QImage::Format_RGB32)
                        .scaled(side, side, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    QPainter painter(&canvas);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.scale(double(canvas.width()) / image.width(), double(canvas.height()) / image.height());
    const QRectF visible(0, 0, image.width(), image.height());
    const std::pair<QString, QColor> layers[] = {{truthPath, QColor(255, 214, 10)},
                                                 {predictionPath, QColor(0, 229, 255)}};
    for (const auto& [path, color] : layers) {
        const QImage mask = QImage(path).convertToFormat(QImage::Format_Grayscale8);
        if (mask.isNull() || mask.size() != image.size()) {
            continue;
        }
        QPen pen(color);
        pen.setCosmetic(true);
        pen.setWidthF(1.6);
        painter.setPen(pen);
        painter.setBrush(Qt::NoBrush);
        MaskOutline::fromMask(fromQImage(mask), 0.3).draw(painter, visible, 0.0);
    }
    painter.end();
    return QPixmap::fromImage(canvas);
}

qint64 integerOf(const QJsonObject& e, const char* key, qint64 fallback = 0)
{
    const QJsonValue v = e.value(QLatin1String(key));
    return v.isDouble() ? v.toInteger(fallback) : fallback;
}

double numberOf(const QJsonObject& e, const char* key)
{
    const QJsonValue v = e.value(QLatin1String(key));
    return v.isDouble() ? v.toDouble() : std::nan("");
}

} // namespace

TrainingPanel::TrainingPanel(QWidget* parent)
    : QWidget(parent)
{
    // New run.
    m_dataDir = new QLineEdit(this);
    m_dataDir->setObjectName(QStringLiteral("trainingDataDir"));
    m_dataDir->setPlaceholderText(tr("images/ + masks/, ISIC2018, PH2, BraTS, AIIB folder"));
    m_dataDir->setToolTip(tr("The dataset folder: images/ + masks/ (2D images or volumes, paired "
                             "by file name), the ISIC2018 or PH2 layout, BraTS 2023 case folders "
                             "or AIIB 2023 img/ + gt/"));
    auto* browseData = new QToolButton(this);
    browseData->setText(tr("Browse..."));
    browseData->setToolTip(tr("Choose the dataset folder"));
    m_dataInfo = new QLabel(this);
    m_dataInfo->setObjectName(QStringLiteral("trainingDataInfo"));
    m_dataInfo->setWordWrap(true);
    m_dataInfo->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_dataInfo->setToolTip(tr("The layout found in the folder, its complete cases and the "
                              "train / validation / test split a new run with this preset "
                              "makes (written to the run's split.json)"));
    // Room for the layout, the split and a note: the splitter above gives the form its size
    // hint, which does not grow with a wrapped label.
    m_dataInfo->setMinimumHeight(3 * m_dataInfo->fontMetrics().lineSpacing() + 4);
    m_dataInfo->setAlignment(Qt::AlignLeft | Qt::AlignTop);

    m_preset = new QComboBox(this);
    m_preset->setObjectName(QStringLiteral("trainingPreset"));
    m_preset->setToolTip(tr("The model and training configuration: DermoSegDiff for 2D "
                            "dermoscopy photos, Diff-UNet for CT/MRI volumes"));
    m_preset->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_preset->setMinimumContentsLength(18);
    auto* browseConfig = new QToolButton(this);
    browseConfig->setText(tr("File..."));
    browseConfig->setToolTip(tr("Use another training YAML file (the reference's layout, or ours "
                                "for Diff-UNet)"));
    m_epochs = new QSpinBox(this);
    m_epochs->setObjectName(QStringLiteral("trainingEpochs"));
    m_epochs->setRange(1, 1000000);
    m_epochs->setToolTip(tr("Passes over the training cases (-e)"));
    m_batch = new QSpinBox(this);
    m_batch->setObjectName(QStringLiteral("trainingBatch"));
    m_batch->setRange(1, 4096);
    m_batch->setToolTip(tr("Images (or patches) per optimizer step (-b); lower it when memory "
                           "runs out"));
    m_learningRate = new QLineEdit(this);
    m_learningRate->setObjectName(QStringLiteral("trainingLearningRate"));
    auto* lrValidator = new QDoubleValidator(1e-12, 10.0, 12, m_learningRate);
    lrValidator->setNotation(QDoubleValidator::ScientificNotation);
    lrValidator->setLocale(QLocale::c());
    m_learningRate->setValidator(lrValidator);
    m_learningRate->setToolTip(tr("The optimizer's learning rate (-l), e.g. 0.0001 or 1e-4"));
    m_device = new QComboBox(this);
    m_device->setObjectName(QStringLiteral("trainingDevice"));
    m_device->setToolTip(tr("Where the worker trains: the CPU or a CUDA device"));
    m_threads = new QSpinBox(this);
    m_threads->setObjectName(QStringLiteral("trainingThreads"));
    const int cores = std::max(1, QThread::idealThreadCount());
    m_threads->setRange(1, cores);
    // One core stays with the GUI, so curves and controls respond while the worker trains.
    m_threads->setValue(std::max(1, cores - 1));
    m_threads->setToolTip(tr("CPU threads of the worker; leaving one core free keeps the studio "
                             "responsive"));
    m_processes = new QSpinBox(this);
    m_processes->setObjectName(QStringLiteral("trainingProcesses"));
    m_processes->setRange(1, std::max(1, cores));
    m_processes->setValue(1);
    m_processes->setToolTip(tr("Data-parallel processes: each trains on its own "
                               "batch with the threads above and the gradients are averaged "
                               "every step, so the global batch is processes x batch"));
    m_runName = new QLineEdit(this);
    m_runName->setObjectName(QStringLiteral("trainingRunName"));
    m_runName->setToolTip(tr("Name of the run: its folder under the runs folder, and how the "
                             "model chooser lists its checkpoints (run NAME: best)"));
    m_runsFolder = new QLineEdit(this);
    m_runsFolder->setObjectName(QStringLiteral("trainingRunsFolder"));
    m_runsFolder->setToolTip(tr("Folder of the runs (one sub-folder each); the model chooser "
                                "lists the checkpoints of the runs here"));
    auto* browseRuns = new QToolButton(this);
    browseRuns->setText(tr("Browse..."));
    browseRuns->setToolTip(tr("Choose the runs folder"));
    m_start = new QPushButton(tr("Start Training"), this);
    m_start->setObjectName(QStringLiteral("trainingStart"));
    m_start->setToolTip(tr("Start `diffseg train` with these settings in a background process"));
    m_stop = new QPushButton(tr("Stop"), this);
    m_stop->setObjectName(QStringLiteral("trainingStop"));
    m_stop->setToolTip(tr("Stop the running training: it finishes the current step, saves "
                          "last.dsckpt and exits; Resume continues it later"));

    auto* dataRow = new QHBoxLayout;
    dataRow->addWidget(m_dataDir, 1);
    dataRow->addWidget(browseData);
    auto* presetRow = new QHBoxLayout;
    presetRow->addWidget(m_preset, 1);
    presetRow->addWidget(browseConfig);
    auto* numbersRow = new QHBoxLayout;
    numbersRow->addWidget(m_epochs);
    numbersRow->addWidget(new QLabel(tr("Batch:"), this));
    numbersRow->addWidget(m_batch);
    numbersRow->addWidget(new QLabel(tr("LR:"), this));
    numbersRow->addWidget(m_learningRate, 1);
    auto* deviceRow = new QHBoxLayout;
    deviceRow->addWidget(m_device, 1);
    deviceRow->addWidget(new QLabel(tr("Threads:"), this));
    deviceRow->addWidget(m_threads);
    deviceRow->addWidget(new QLabel(tr("Processes:"), this));
    deviceRow->addWidget(m_processes);
    auto* runsRow = new QHBoxLayout;
    runsRow->addWidget(m_runsFolder, 1);
    runsRow->addWidget(browseRuns);
    auto* startRow = new QHBoxLayout;
    startRow->addWidget(m_start, 1);
    startRow->addWidget(m_stop);
    auto* form = new QFormLayout;
    form->addRow(tr("Dataset:"), dataRow);
    form->addRow(QString(), m_dataInfo);
    form->addRow(tr("Preset:"), presetRow);
    form->addRow(tr("Epochs:"), numbersRow);
    form->addRow(tr("Device:"), deviceRow);
    form->addRow(tr("Run name:"), m_runName);
    form->addRow(tr("Runs folder:"), runsRow);
    auto* newRun = new QGroupBox(tr("New run"), this);
    auto* newRunLayout = new QVBoxLayout(newRun);
    newRunLayout->addLayout(form);
    newRunLayout->addLayout(startRow);

    // Runs.
    m_runs = new QTreeWidget(this);
    m_runs->setObjectName(QStringLiteral("trainingRuns"));
    m_runs->setColumnCount(ColumnCount);
    m_runs->setHeaderLabels({tr("Run"), tr("Status"), tr("Progress"), tr("Updated")});
    m_runs->setRootIsDecorated(false);
    m_runs->setUniformRowHeights(true);
    m_runs->setSelectionMode(QAbstractItemView::SingleSelection);
    m_runs->header()->setSectionResizeMode(ColumnName, QHeaderView::Stretch);
    m_runs->header()->setStretchLastSection(false);
    m_runs->setToolTip(tr("The runs in the runs folder and those started here, with their status "
                          "(kept across restarts); select one to see its curves"));
    m_resume = new QPushButton(tr("Resume"), this);
    m_resume->setObjectName(QStringLiteral("trainingResume"));
    m_resume->setToolTip(tr("Continue the selected run from its last checkpoint (--resume): the "
                            "optimizer, EMA, step counter and random state carry on"));
    m_resumeEpochs = new QSpinBox(this);
    m_resumeEpochs->setObjectName(QStringLiteral("trainingResumeEpochs"));
    m_resumeEpochs->setRange(1, 1000000);
    m_resumeEpochs->setPrefix(tr("up to epoch "));
    m_resumeEpochs->setToolTip(tr("Epochs the resumed run trains to in total; more than before "
                                  "extends a finished run"));
    m_openFolder = new QPushButton(tr("Open Folder"), this);
    m_openFolder->setToolTip(tr("Show the selected run's folder (config.yaml, progress.jsonl, "
                                "checkpoints, samples) in the file manager"));
    auto* runButtons = new QHBoxLayout;
    runButtons->addWidget(m_resume);
    runButtons->addWidget(m_resumeEpochs);
    runButtons->addStretch(1);
    runButtons->addWidget(m_openFolder);
    auto* runsBox = new QGroupBox(tr("Runs"), this);
    auto* runsLayout = new QVBoxLayout(runsBox);
    runsLayout->addWidget(m_runs, 1);
    runsLayout->addLayout(runButtons);

    auto* top = new QWidget(this);
    auto* topLayout = new QHBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    topLayout->addWidget(newRun, 3);
    topLayout->addWidget(runsBox, 2);

    // Progress.
    m_progress = new QProgressBar(this);
    m_progress->setObjectName(QStringLiteral("trainingProgress"));
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progress->setToolTip(tr("Optimizer steps done of the run's total, and the time left as the "
                              "worker estimates it"));
    m_status = new QLabel(tr("No training running"), this);
    m_status->setObjectName(QStringLiteral("trainingStatus"));
    m_status->setToolTip(tr("Epoch, step, loss and speed of the run shown"));
    m_message = new QLabel(this);
    m_message->setObjectName(QStringLiteral("trainingMessage"));
    m_message->setWordWrap(true);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_message->setToolTip(tr("How the last run ended, errors and the last checkpoint"));

    m_charts = new TrainingCharts(this);
    m_charts->setObjectName(QStringLiteral("trainingCharts"));

    // Validation samples and log.
    m_samples = new QWidget;
    auto* samplesLayout = new QVBoxLayout(m_samples);
    m_samplesHint = new QLabel(tr("The sampled predictions on a few validation images appear here "
                                  "every training.validation.dice_every epochs: yellow the ground "
                                  "truth, cyan the prediction."),
                               m_samples);
    m_samplesHint->setWordWrap(true);
    m_samplesGrid = new QGridLayout;
    m_samplesGrid->setSpacing(4);
    samplesLayout->addWidget(m_samplesHint);
    samplesLayout->addLayout(m_samplesGrid);
    samplesLayout->addStretch(1);
    auto* samplesArea = new QScrollArea(this);
    samplesArea->setWidget(m_samples);
    samplesArea->setWidgetResizable(true);
    samplesArea->setToolTip(tr("Validation images with the ground truth (yellow) and the mask "
                               "sampled by the model being trained (cyan), newest first"));
    m_log = new QPlainTextEdit(this);
    m_log->setObjectName(QStringLiteral("trainingLog"));
    m_log->setReadOnly(true);
    // A long run prints a line per step: the log keeps the newest lines only.
    m_log->setMaximumBlockCount(5000);
    m_log->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_log->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_log->setToolTip(tr("What the worker prints (errors in red) and what the studio did"));
    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("trainingTabs"));
    m_tabs->addTab(samplesArea, tr("Validation Samples"));
    m_tabs->addTab(m_log, tr("Log"));
    m_tabs->setToolTip(tr("Sampled validation predictions and the worker's log"));
    // A row of thumbnails with its captions stays whole when the dock is short.
    m_tabs->setMinimumHeight(kThumbnailSide + 3 * fontMetrics().lineSpacing() + 40);

    auto* progressArea = new QWidget(this);
    auto* progressLayout = new QVBoxLayout(progressArea);
    progressLayout->setContentsMargins(0, 0, 0, 0);
    progressLayout->addWidget(m_progress);
    progressLayout->addWidget(m_status);
    progressLayout->addWidget(m_message);
    progressLayout->addWidget(m_charts, 1);

    auto* splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(top);
    splitter->addWidget(progressArea);
    splitter->addWidget(m_tabs);
    splitter->setStretchFactor(0, 0);
    splitter->setStretchFactor(1, 3);
    splitter->setStretchFactor(2, 2);
    splitter->setChildrenCollapsible(false);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(splitter);

    connect(browseData, &QToolButton::clicked, this, [this] {
        const QString dir =
            QFileDialog::getExistingDirectory(this, tr("Dataset folder"), m_dataDir->text());
        if (!dir.isEmpty()) {
            setDatasetFolder(dir);
        }
    });
    connect(m_dataDir, &QLineEdit::editingFinished, this, &TrainingPanel::refreshDatasetSummary);
    connect(browseConfig, &QToolButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Training configuration"), QFileInfo(request().configPath).absolutePath(),
            tr("YAML files (*.yaml *.yml);;All files (*)"));
        if (!path.isEmpty()) {
            setConfigFile(path);
        }
    });
    connect(m_preset, qOverload<int>(&QComboBox::currentIndexChanged), this,
            &TrainingPanel::choosePreset);
    connect(m_runName, &QLineEdit::textEdited, this, [this] { m_runNameEdited = true; });
    connect(browseRuns, &QToolButton::clicked, this, [this] {
        const QString dir =
            QFileDialog::getExistingDirectory(this, tr("Runs folder"), m_runsFolder->text());
        if (!dir.isEmpty()) {
            setRunsFolder(dir);
            Q_EMIT runsFolderChanged(runsFolder());
        }
    });
    connect(m_runsFolder, &QLineEdit::editingFinished, this,
            [this] { Q_EMIT runsFolderChanged(runsFolder()); });
    connect(m_start, &QPushButton::clicked, this, [this] {
        const QString problem = validate();
        if (!problem.isEmpty()) {
            setMessage(problem, MessageKind::Error);
            return;
        }
        Q_EMIT startRequested(request());
    });
    connect(m_stop, &QPushButton::clicked, this, &TrainingPanel::stopRequested);
    connect(m_resume, &QPushButton::clicked, this, [this] {
        const QString dir = selectedRun();
        if (!dir.isEmpty()) {
            Q_EMIT resumeRequested(dir, m_resumeEpochs->value());
        }
    });
    connect(m_openFolder, &QPushButton::clicked, this, [this] {
        const QString dir = selectedRun();
        if (!dir.isEmpty()) {
            QDesktopServices::openUrl(QUrl::fromLocalFile(dir));
        }
    });
    connect(m_runs, &QTreeWidget::itemSelectionChanged, this, [this] {
        const QString dir = selectedRun();
        if (!dir.isEmpty()) {
            const TrainingRunInfo info = runInfo(dir);
            if (info.epochs > 0) {
                m_resumeEpochs->setValue(info.epochs);
            }
        }
        updateEnabled();
        if (!dir.isEmpty()) {
            Q_EMIT runSelected(dir);
        }
    });

    setDevices({QStringLiteral("cpu")}, {tr("CPU")});
    setPresets(shippedTrainingPresets());
    updateEnabled();
}

//------------------------------------------------------------------------------------------------
// The form

void TrainingPanel::setPresets(const std::vector<TrainingPreset>& presets)
{
    m_presets = presets;
    const QSignalBlocker block(m_preset);
    m_preset->clear();
    for (std::size_t i = 0; i < m_presets.size(); ++i) {
        m_preset->addItem(m_presets[i].name, m_presets[i].configPath);
        m_preset->setItemData(static_cast<int>(i),
                              m_presets[i].description.isEmpty()
                                  ? m_presets[i].configPath
                                  : m_presets[i].description + QLatin1Char('\n') +
                                        m_presets[i].configPath,
                              Qt::ToolTipRole);
    }
    // The small CPU model is the one that trains anywhere.
    int initial = 0;
    for (std::size_t i = 0; i < m_presets.size(); ++i) {
        if (m_presets[i].configPath.endsWith(QLatin1String("small-cpu.yaml")) &&
            !m_presets[i].volumetric) {
            initial = static_cast<int>(i);
        }
    }
    if (!m_presets.empty()) {
        m_preset->setCurrentIndex(initial);
        choosePreset(initial);
    }
}

bool TrainingPanel::setConfigFile(const QString& path)
{
    const QString absolute = QFileInfo(path).absoluteFilePath();
    for (std::size_t i = 0; i < m_presets.size(); ++i) {
        if (m_presets[i].configPath == absolute) {
            m_preset->setCurrentIndex(static_cast<int>(i));
            return true;
        }
    }
    TrainingPreset preset;
    QString error;
    preset.name = tr("Custom: %1").arg(QFileInfo(path).fileName());
    preset.description = tr("A training configuration chosen by hand");
    if (!readTrainingPreset(absolute, preset, &error)) {
        setMessage(tr("Cannot use this configuration: %1").arg(error), MessageKind::Error);
        return false;
    }
    m_presets.push_back(preset);
    m_preset->addItem(preset.name, preset.configPath);
    m_preset->setItemData(m_preset->count() - 1, preset.configPath, Qt::ToolTipRole);
    m_preset->setCurrentIndex(m_preset->count() - 1);
    return true;
}

void TrainingPanel::setDevices(const QStringList& ids, const QStringList& labels)
{
    const QString current = m_device->currentData().toString();
    m_device->clear();
    for (int i = 0; i < ids.size(); ++i) {
        m_device->addItem(i < labels.size() ? labels[i] : ids[i], ids[i]);
    }
    const int keep = m_device->findData(current);
    m_device->setCurrentIndex(keep >= 0 ? keep : 0);
}

void TrainingPanel::setDevice(const QString& id)
{
    const int index = m_device->findData(id);
    if (index >= 0) {
        m_device->setCurrentIndex(index);
    }
}

void TrainingPanel::setDatasetFolder(const QString& folder)
{
    m_dataDir->setText(folder.isEmpty() ? QString() : QDir::toNativeSeparators(folder));
    refreshDatasetSummary();
}

QString TrainingPanel::datasetFolder() const
{
    const QString text = m_dataDir->text().trimmed();
    return text.isEmpty() ? QString()
                          : QFileInfo(QDir::fromNativeSeparators(text)).absoluteFilePath();
}

void TrainingPanel::setRunsFolder(const QString& folder)
{
    m_runsFolder->setText(QDir::toNativeSeparators(folder));
}

QString TrainingPanel::runsFolder() const
{
    const QString text = m_runsFolder->text().trimmed();
    return text.isEmpty() ? QString()
                          : QFileInfo(QDir::fromNativeSeparators(text)).absoluteFilePath();
}

const TrainingPreset* TrainingPanel::currentPreset() const
{
    const int index = m_preset->currentIndex();
    return index >= 0 && index < static_cast<int>(m_presets.size()) ? &m_presets[index] : nullptr;
}

void TrainingPanel::choosePreset(int index)
{
    if (index < 0 || index >= static_cast<int>(m_presets.size())) {
        return;
    }
    const TrainingPreset& p = m_presets[index];
    m_epochs->setValue(std::max(1, p.epochs));
    m_batch->setValue(std::max(1, p.batchSize));
    m_learningRate->setText(QString::number(p.learningRate, 'g', 6));
    if (!m_runNameEdited) {
        m_runName->setText(defaultRunName());
    }
    refreshDatasetSummary();
}

QString TrainingPanel::defaultRunName() const
{
    const TrainingPreset* p = currentPreset();
    QString base = p && !p->modelName.isEmpty() ? p->modelName : QStringLiteral("run");
    base.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9_.-]")), QStringLiteral("_"));
    return base + QDateTime::currentDateTime().toString(QStringLiteral("-yyyyMMdd-HHmm"));
}

void TrainingPanel::refreshDatasetSummary()
{
    const QString folder = datasetFolder();
    if (folder.isEmpty()) {
        m_summary = DatasetSummary{};
        m_summary.error = tr("Choose the dataset folder");
        m_dataInfo->setText(m_summary.error);
        m_dataInfo->setStyleSheet(QString());
        return;
    }
    m_summary = summarizeDataset(folder, currentPreset());
    m_dataInfo->setText(m_summary.text());
    m_dataInfo->setStyleSheet(m_summary.ok ? QString() : QStringLiteral("color: #c02828"));
}

void TrainingPanel::setRequest(const TrainingRequest& r)
{
    if (!r.configPath.isEmpty() && QFileInfo(r.configPath).isFile()) {
        setConfigFile(r.configPath);
    }
    if (r.epochs > 0) {
        m_epochs->setValue(r.epochs);
    }
    if (r.batchSize > 0) {
        m_batch->setValue(r.batchSize);
    }
    if (r.learningRate > 0) {
        m_learningRate->setText(QString::number(r.learningRate, 'g', 6));
    }
    setDevice(r.device);
    if (r.threads > 0) {
        m_threads->setValue(r.threads);
    }
    if (r.processes > 0) {
        m_processes->setValue(r.processes);
    }
    if (!r.runName.isEmpty()) {
        m_runName->setText(r.runName);
        m_runNameEdited = true;
    }
    if (!r.runsFolder.isEmpty()) {
        setRunsFolder(r.runsFolder);
    }
    setDatasetFolder(r.dataDir);
}

TrainingRequest TrainingPanel::request() const
{
    TrainingRequest r;
    r.dataDir = datasetFolder();
    if (const TrainingPreset* p = currentPreset()) {
        r.configPath = p->configPath;
        r.presetName = p->name;
        r.volumetric = p->volumetric;
    }
    r.epochs = m_epochs->value();
    r.batchSize = m_batch->value();
    r.learningRate = QLocale::c().toDouble(m_learningRate->text().trimmed());
    r.device = m_device->currentData().toString();
    r.threads = m_threads->value();
    r.processes = m_processes->value();
    r.runName = m_runName->text().trimmed();
    r.runsFolder = runsFolder();
    return r;
}

QString TrainingPanel::validate() const
{
    const TrainingRequest r = request();
    if (r.dataDir.isEmpty()) {
        return tr("Choose the dataset folder first");
    }
    if (!m_summary.ok) {
        return tr("The dataset folder cannot be used: %1").arg(m_summary.error);
    }
    if (r.configPath.isEmpty()) {
        return tr("Choose a preset or a configuration file");
    }
    if (!(r.learningRate > 0.0)) {
        return tr("The learning rate must be a positive number, e.g. 0.0001");
    }
    if (r.runName.isEmpty()) {
        return tr("Give the run a name");
    }
    if (r.runName.contains(QRegularExpression(QStringLiteral("[/\\\\]"))) ||
        r.runName.startsWith(QLatin1Char('.'))) {
        return tr("The run name is a folder name: no slashes, no leading dot");
    }
    if (r.runsFolder.isEmpty()) {
        return tr("Choose the runs folder");
    }
    return {};
}

//------------------------------------------------------------------------------------------------
// Live progress

void TrainingPanel::clearProgress()
{
    m_charts->clear();
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progress->setFormat(QStringLiteral("%p%"));
    m_status->setText(QString());
    m_totalSteps = 0;
    m_lastCheckpointText.clear();
    m_sampleRows.clear();
    showSamples(0, 0.0, {});
    m_log->clear();
}

void TrainingPanel::beginRun(const QString& runDir, bool resumed)
{
    m_activeRun = runDir;
    if (!resumed) {
        clearProgress();
    }
    m_status->setText(resumed ? tr("Resuming %1...").arg(QFileInfo(runDir).fileName())
                              : tr("Starting %1...").arg(QFileInfo(runDir).fileName()));
    setMessage(QString());
    setRunning(true);
}

void TrainingPanel::applyEvent(const QJsonObject& e, bool fromHistory)
{
    const QString kind = e.value(QLatin1String("event")).toString();
    if (kind == QLatin1String("caching")) {
        const double fraction = std::clamp(numberOf(e, "fraction"), 0.0, 1.0);
        m_progress->setRange(0, 1000);
        m_progress->setValue(std::isfinite(fraction) ? int(fraction * 1000) : 0);
        m_progress->setFormat(tr("Preparing the dataset: %p%"));
        m_status->setText(tr("Decoding and resizing the dataset (first run only): %1")
                              .arg(e.value(QLatin1String("message")).toString()));
    } else if (kind == QLatin1String("started")) {
        m_totalSteps = integerOf(e, "total_steps");
        m_charts->setTotalSteps(m_totalSteps);
        const QJsonValue resumedFrom = e.value(QLatin1String("resumed_from_step"));
        qint64 step = 0;
        if (resumedFrom.isDouble()) {
            // The steps after the checkpoint are trained again and reported again.
            step = resumedFrom.toInteger();
            m_charts->truncateAfter(step);
        }
        m_progress->setRange(0, int(std::clamp<qint64>(m_totalSteps, 1, INT_MAX)));
        m_progress->setValue(int(std::clamp<qint64>(step, 0, m_progress->maximum())));
        m_progress->setFormat(QStringLiteral("%p%"));
        const QJsonObject d = e.value(QLatin1String("dataset")).toObject();
        const QString text =
            tr("%1 %2 on %3: %4 training / %5 validation cases (%6), %7 M parameters, %8 steps")
                .arg(resumedFrom.isDouble() ? tr("Resumed") : tr("Training"),
                     e.value(QLatin1String("name")).toString(),
                     e.value(QLatin1String("device")).toString())
                .arg(integerOf(d, "train"))
                .arg(integerOf(d, "val"))
                .arg(d.value(QLatin1String("layout")).toString())
                .arg(double(integerOf(e, "parameters")) / 1e6, 0, 'f', 2)
                .arg(m_totalSteps);
        m_status->setText(text);
        if (fromHistory) {
            appendLog(text);
        }
    } else if (kind == QLatin1String("step")) {
        const qint64 step = integerOf(e, "step");
        const qint64 total = integerOf(e, "total_steps", m_totalSteps);
        if (total > 0) {
            m_totalSteps = total;
            m_progress->setRange(0, int(std::clamp<qint64>(total, 1, INT_MAX)));
        }
        m_progress->setValue(int(std::clamp<qint64>(step, 0, m_progress->maximum())));
        const double eta = numberOf(e, "eta_seconds");
        m_progress->setFormat(std::isfinite(eta) && step < total
                                  ? tr("%p%  -  about %1 left").arg(formatDuration(eta))
                                  : QStringLiteral("%p%"));
        m_status->setText(tr("Epoch %1 / %2   step %3 / %4   loss %5   %6 steps/s")
                              .arg(integerOf(e, "epoch"))
                              .arg(integerOf(e, "epochs"))
                              .arg(step)
                              .arg(total)
                              .arg(formatNumber(numberOf(e, "loss")))
                              .arg(numberOf(e, "steps_per_second"), 0, 'f', 2));
        m_charts->addStepLoss(step, numberOf(e, "loss"));
    } else if (kind == QLatin1String("epoch")) {
        m_charts->addEpochLoss(integerOf(e, "step"), numberOf(e, "train_loss"));
    } else if (kind == QLatin1String("validation")) {
        const qint64 step = integerOf(e, "step");
        const double loss = numberOf(e, "val_loss");
        const double dice = numberOf(e, "dice");
        m_charts->addValidationLoss(step, loss);
        m_charts->addDice(step, dice);
        const QJsonArray samples = e.value(QLatin1String("samples")).toArray();
        if (!samples.isEmpty()) {
            showSamples(int(integerOf(e, "epoch")) + 1, dice, samples);
        }
        if (fromHistory) {
            appendLog(
                tr("validation after epoch %1: loss %2%3%4")
                    .arg(integerOf(e, "epoch") + 1)
                    .arg(formatNumber(loss))
                    .arg(std::isfinite(dice) ? tr(", sampled Dice %1").arg(formatNumber(dice))
                                             : QString())
                    .arg(e.value(QLatin1String("best")).toBool() ? tr(" (best)") : QString()));
        }
    } else if (kind == QLatin1String("checkpoint")) {
        m_lastCheckpointText = tr("%1 checkpoint %2 (step %3)")
                                   .arg(e.value(QLatin1String("kind")).toString(),
                                        e.value(QLatin1String("path")).toString())
                                   .arg(integerOf(e, "step"));
        if (fromHistory) {
            appendLog(tr("saved %1").arg(m_lastCheckpointText));
        }
    } else if (kind == QLatin1String("finished")) {
        const QString reason = e.value(QLatin1String("reason")).toString();
        if (reason == QLatin1String("completed")) {
            m_progress->setValue(m_progress->maximum());
        }
        m_progress->setFormat(QStringLiteral("%p%"));
        if (fromHistory) {
            appendLog(tr("finished (%1), last checkpoint %2")
                          .arg(reason, e.value(QLatin1String("last_checkpoint")).toString()));
        }
    } else if (kind == QLatin1String("failed")) {
        if (fromHistory) {
            appendLog(tr("failed: %1").arg(e.value(QLatin1String("reason")).toString()), true);
        }
    } else if (kind == QLatin1String("log")) {
        if (fromHistory) {
            appendLog(tr("%1: %2").arg(e.value(QLatin1String("level")).toString(),
                                       e.value(QLatin1String("message")).toString()),
                      e.value(QLatin1String("level")).toString() != QLatin1String("info"));
        }
    }
}

void TrainingPanel::showSamples(int epoch, double dice, const QJsonArray& samples)
{
    if (!samples.isEmpty()) {
        m_sampleRows.insert(m_sampleRows.begin(), SampleRow{epoch, dice, samples});
        if (m_sampleRows.size() > kSampleRows) {
            m_sampleRows.resize(kSampleRows);
        }
    }
    while (QLayoutItem* item = m_samplesGrid->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    m_thumbnailCount = 0;
    m_samplesHint->setVisible(m_sampleRows.empty());
    int row = 0;
    for (const SampleRow& r : m_sampleRows) {
        auto* header = new QLabel(std::isfinite(r.dice)
                                      ? tr("Epoch %1\nDice %2").arg(r.epoch).arg(r.dice, 0, 'f', 3)
                                      : tr("Epoch %1").arg(r.epoch),
                                  m_samples);
        header->setToolTip(
            tr("Validation after epoch %1: the sampled Dice over these images").arg(r.epoch));
        m_samplesGrid->addWidget(header, row, 0, Qt::AlignTop);
        int column = 1;
        for (const QJsonValue& v : r.samples) {
            const QJsonObject s = v.toObject();
            auto* cell = new QLabel(m_samples);
            cell->setPixmap(sampleThumbnail(s.value(QLatin1String("image")).toString(),
                                            s.value(QLatin1String("ground_truth")).toString(),
                                            s.value(QLatin1String("prediction")).toString(),
                                            kThumbnailSide));
            const double sampleDice = numberOf(s, "dice");
            cell->setToolTip(tr("%1, epoch %2: Dice %3\nyellow: ground truth, cyan: prediction\n%4")
                                 .arg(s.value(QLatin1String("id")).toString())
                                 .arg(r.epoch)
                                 .arg(formatNumber(sampleDice))
                                 .arg(s.value(QLatin1String("prediction")).toString()));
            auto* caption = new QLabel(tr("%1  %2")
                                           .arg(s.value(QLatin1String("id")).toString())
                                           .arg(sampleDice, 0, 'f', 2),
                                       m_samples);
            caption->setToolTip(cell->toolTip());
            auto* box = new QWidget(m_samples);
            auto* boxLayout = new QVBoxLayout(box);
            boxLayout->setContentsMargins(0, 0, 0, 0);
            boxLayout->setSpacing(1);
            boxLayout->addWidget(cell);
            boxLayout->addWidget(caption);
            m_samplesGrid->addWidget(box, row, column++, Qt::AlignTop | Qt::AlignLeft);
            ++m_thumbnailCount;
        }
        m_samplesGrid->setColumnStretch(column, 1);
        ++row;
    }
}

void TrainingPanel::appendLog(const QString& line, bool error)
{
    // Every line gets its own explicit format: after appendHtml() a red span's colour carries
    // over into the lines appended after it.
    QScrollBar* bar = m_log->verticalScrollBar();
    const bool atEnd = bar->value() >= bar->maximum();
    QTextCharFormat format;
    if (error) {
        format.setForeground(QColor(192, 40, 40));
    }
    QTextCursor cursor(m_log->document());
    cursor.movePosition(QTextCursor::End);
    if (!m_log->document()->isEmpty()) {
        cursor.insertBlock(QTextBlockFormat(), format);
    }
    cursor.insertText(line, format);
    if (atEnd) {
        bar->setValue(bar->maximum());
    }
}

void TrainingPanel::setRunning(bool running)
{
    m_running = running;
    if (!running) {
        m_stopping = false;
        m_activeRun.clear();
        m_stop->setText(tr("Stop"));
    }
    updateEnabled();
}

void TrainingPanel::setStopping(bool stopping)
{
    m_stopping = stopping;
    m_stop->setText(stopping ? tr("Stopping...") : tr("Stop"));
    updateEnabled();
}

void TrainingPanel::setMessage(const QString& text, MessageKind kind)
{
    m_message->setText(text);
    switch (kind) {
    case MessageKind::Error:
        m_message->setStyleSheet(QStringLiteral("color: #c02828"));
        break;
    case MessageKind::Success:
        m_message->setStyleSheet(QStringLiteral("color: #27823c"));
        break;
    case MessageKind::Info:
        m_message->setStyleSheet(QString());
        break;
    }
}

QString TrainingPanel::message() const
{
    return m_message->text();
}

QString TrainingPanel::statusText() const
{
    return m_status->text();
}

void TrainingPanel::updateEnabled()
{
    m_start->setEnabled(!m_running);
    m_stop->setEnabled(m_running && !m_stopping);
    const TrainingRunInfo selected = runInfo(selectedRun());
    m_resume->setEnabled(!m_running && selected.resumable());
    m_resumeEpochs->setEnabled(!m_running && selected.resumable());
    m_openFolder->setEnabled(!selected.dir.isEmpty());
}

} // namespace diffseg::widgets
