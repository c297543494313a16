import { ModelControlService } from './model-control.service';
import { ModelsController } from './models.controller';

/** GET /models, POST /models/:name/load, DELETE /models/:name: registered by the API module. */
export const MODEL_MANAGEMENT = { controllers: [ModelsController], providers: [ModelControlService] };
