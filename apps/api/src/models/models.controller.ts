import { Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ModelCatalog, ModelControlResponse } from '@app/contracts';
import { Access } from '../auth/access.decorator';
import { WorkerRegistry } from '../workers/worker-registry.service';
import { buildModelCatalog } from './model-catalog';
import { ModelControlService } from './model-control.service';

/** Model management: what is known and loaded where (any key), preload and unload everywhere (admin token: they change state). */
@Controller('models')
export class ModelsController {
  constructor(
    private readonly registry: WorkerRegistry,
    private readonly control: ModelControlService,
  ) {}

  /** Official models and custom files live workers have; per model, which workers hold it and its size. */
  @Get()
  @Access('user')
  async list(): Promise<ModelCatalog> {
    return buildModelCatalog(await this.registry.liveWorkers());
  }

  /** Every live worker loads the model (downloading it when needed) and answers what it did. */
  @Post(':name/load')
  @HttpCode(200)
  @Access('admin')
  load(@Param('name') name: string): Promise<ModelControlResponse> {
    return this.control.broadcast('load', name);
  }

  /** Every live worker unloads the model; one a running job holds is freed when the job ends (models_pending). */
  @Delete(':name')
  @HttpCode(200)
  @Access('admin')
  unload(@Param('name') name: string): Promise<ModelControlResponse> {
    return this.control.broadcast('unload', name);
  }
}
