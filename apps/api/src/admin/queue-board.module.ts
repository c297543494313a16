import { Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { BULL_BOARD_INSTANCE, BullBoardInstance, BullBoardModule } from '@bull-board/nestjs';
import { Queue } from 'bullmq';
import { SERVICE_CONFIG, ServiceConfig, ServiceConfigModule } from '@app/config';
import { TRANSCRIBE_QUEUE, WEBHOOKS_QUEUE } from '@app/contracts';
import { bullQueueOptions, TranscribeQueueModule } from '@app/redis';
import { Credentials } from '../auth/credentials';
import { QUEUE_BOARD_PATH, QueueBoardAccess } from './queue-board.access';

/** Express's sub-application of the board, without its X-Powered-By (the API sends none). */
class BoardExpressAdapter extends ExpressAdapter {
  constructor() {
    super();
    this.getRouter().disable('x-powered-by');
  }
}

/** Puts the service's queues on the board, read-only: operators look; retries and removals go through the API. */
@Injectable()
class QueueBoardQueues implements OnApplicationShutdown {
  /** the webhook queue's producer is the webhook module's; the board reads it through a Queue of its own */
  private readonly webhooks: Queue;

  constructor(
    @Inject(BULL_BOARD_INSTANCE) board: BullBoardInstance,
    @InjectQueue(TRANSCRIBE_QUEUE) transcribe: Queue,
    @Inject(SERVICE_CONFIG) config: ServiceConfig,
  ) {
    this.webhooks = new Queue(WEBHOOKS_QUEUE, bullQueueOptions(config));
    board.setQueues([transcribe, this.webhooks].map((queue) => new BullMQAdapter(queue, { readOnlyMode: true })));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.webhooks.close().catch(() => undefined);
  }
}

/**
 * Bull Board at /admin/queues (the transcribe and webhooks queues, read-only) behind the admin token
 * (QueueBoardAccess). Plain Express middleware, so Nest's route table and the OpenAPI document do
 * not list it.
 */
@Module({
  imports: [
    TranscribeQueueModule,
    ServiceConfigModule,
    BullBoardModule.forRootAsync({
      imports: [ServiceConfigModule],
      inject: [SERVICE_CONFIG],
      useFactory: (config: ServiceConfig) => {
        const access = new QueueBoardAccess(new Credentials(config.apiKeys, config.adminToken), config.adminToken);
        return {
          route: QUEUE_BOARD_PATH,
          adapter: BoardExpressAdapter,
          middleware: access.middleware(),
          boardOptions: { uiConfig: { boardTitle: 'Transcription queues' } },
        };
      },
    }),
  ],
  providers: [QueueBoardQueues],
})
export class QueueBoardModule {}
